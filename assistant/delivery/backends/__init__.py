from django.conf import settings
from django.utils.module_loading import import_string


def get_backend(path: str | None = None, **kwargs):
    """Return an instance of the SMS backend named by ``path`` or settings.SMS_BACKEND."""
    return import_string(path or settings.SMS_BACKEND)(**kwargs)
