"""Sign test requests the way Twilio does."""

from django.conf import settings
from twilio.request_validator import RequestValidator


def twilio_signature(path: str, params: dict[str, str], token: str | None = None) -> str:
    """Return the X-Twilio-Signature Twilio would send for a POST to PUBLIC_BASE_URL + path."""
    validator = RequestValidator(token or settings.TWILIO_AUTH_TOKEN)
    return validator.compute_signature(settings.PUBLIC_BASE_URL + path, params)


def signed_post(client, path: str, params: dict[str, str], **extra):
    """POST ``params`` to ``path`` with a valid Twilio signature."""
    return client.post(
        path, params, headers={"X-Twilio-Signature": twilio_signature(path, params)}, **extra
    )
