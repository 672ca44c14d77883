from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from assistant.ops import checks  # noqa: F401  (registers the system checks; imports no model)


class AssistantConfig(AppConfig):
    name = "assistant"
    verbose_name = _("Know your police")
    default_auto_field = "django.db.models.BigAutoField"
