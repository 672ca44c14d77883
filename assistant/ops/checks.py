"""System checks for configuration mistakes an operator can make."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.utils.module_loading import import_string


@register(Tags.compatibility)
def check_sms_settings(app_configs, **kwargs):
    """Report an SMS backend that cannot load or Twilio settings that do not fit together."""
    problems = []
    try:
        import_string(settings.SMS_BACKEND)
    except ImportError as exc:
        problems.append(
            Error(
                f"SMS_BACKEND {settings.SMS_BACKEND!r} cannot be imported: {exc}",
                hint="Use a dotted path such as assistant.delivery.backends.twilio.TwilioBackend.",
                id="assistant.E001",
            )
        )
    if settings.SMS_BACKEND.endswith("TwilioBackend"):
        if not (settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN):
            problems.append(
                Error(
                    "The Twilio SMS backend needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.",
                    id="assistant.E002",
                )
            )
        if not (settings.TWILIO_FROM_NUMBER or settings.TWILIO_MESSAGING_SERVICE_SID):
            problems.append(
                Error(
                    "The Twilio SMS backend needs TWILIO_FROM_NUMBER or "
                    "TWILIO_MESSAGING_SERVICE_SID.",
                    id="assistant.E003",
                )
            )
    if not settings.DEBUG and not settings.REDIS_URL:
        problems.append(
            Warning(
                "REDIS_URL is not set, so messages are sent inside web requests and the cache "
                "is per process.",
                hint="Set REDIS_URL and run a Celery worker and beat in production.",
                id="assistant.W001",
            )
        )
    return problems
