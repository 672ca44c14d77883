from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssistantConfig(AppConfig):
    name = "assistant"
    verbose_name = _("Know your police")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from assistant import checks  # noqa: F401  (registers the system checks)
