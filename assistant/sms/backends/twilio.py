from django.conf import settings
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from assistant.sms.backends.base import BaseSmsBackend, SentMessage, SmsError

# Twilio error codes that no retry can fix: an invalid number, a number that replied STOP,
# a number that cannot receive SMS, and an unreachable destination.
PERMANENT_ERROR_CODES = {21211, 21610, 21614, 21617, 30006}


class TwilioBackend(BaseSmsBackend):
    """Send through Twilio's Messages API with the official ``twilio`` library."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.client = Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN)
        # Tests point the library at a mock of Twilio's API built from its OpenAPI spec.
        self.client.api.base_url = settings.TWILIO_API_BASE_URL

    def send(self, *, to: str, body: str, status_callback: str | None = None) -> SentMessage:
        """Create one message; raise SmsError(permanent=…) when Twilio refuses it."""
        params = {"to": to, "body": body}
        if settings.TWILIO_MESSAGING_SERVICE_SID:
            params["messaging_service_sid"] = settings.TWILIO_MESSAGING_SERVICE_SID
        else:
            params["from_"] = settings.TWILIO_FROM_NUMBER
        if status_callback:
            params["status_callback"] = status_callback
        try:
            message = self.client.messages.create(**params)
        except TwilioRestException as exc:
            permanent = exc.code in PERMANENT_ERROR_CODES or (
                400 <= exc.status < 500 and exc.status != 429
            )
            raise SmsError(
                f"Twilio refused the message (HTTP {exc.status}, code {exc.code}).",
                permanent=permanent,
                code=exc.code,
            ) from None
        if not message.sid:
            raise SmsError("Twilio accepted the request but returned no sid.", permanent=False)
        return SentMessage(sid=message.sid, status=message.status or "queued")
