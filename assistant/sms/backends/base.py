from dataclasses import dataclass


class SmsError(Exception):
    """A message could not be handed to the SMS provider.

    ``permanent`` says whether trying again can help: a bad or opted-out number will never
    work, a rate limit or an outage may pass.
    """

    def __init__(self, message: str, *, permanent: bool, code: int | None = None):
        super().__init__(message)
        self.permanent = permanent
        self.code = code


@dataclass(frozen=True)
class SentMessage:
    """What the provider said when it accepted a message."""

    sid: str
    status: str = "queued"


class BaseSmsBackend:
    """Send SMS. Subclasses implement ``send``; see Django's email backends."""

    def __init__(self, **kwargs):
        pass

    def send(self, *, to: str, body: str, status_callback: str | None = None) -> SentMessage:
        """Hand one message to the provider and return its sid; raise SmsError on failure."""
        raise NotImplementedError
