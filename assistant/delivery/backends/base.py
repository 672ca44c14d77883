from dataclasses import dataclass
from datetime import datetime


class SmsError(Exception):
    """A message could not be handed to the SMS provider.

    ``permanent`` says whether trying again can help: a bad or opted-out number will never
    work, a rate limit or an outage may pass. ``maybe_accepted`` says the provider may have
    taken the message all the same (a timeout, a dropped connection, an answer we could not
    read): it must be looked up with ``find_sent`` before it is sent again.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        code: int | None = None,
        maybe_accepted: bool = False,
    ):
        super().__init__(message)
        self.permanent = permanent
        self.code = code
        self.maybe_accepted = maybe_accepted


@dataclass(frozen=True)
class SentMessage:
    """What the provider said when it accepted a message."""

    sid: str
    status: str = "queued"


class BaseSmsBackend:
    """Send SMS. Subclasses implement ``send``; see Django's email backends."""

    def __init__(self, **kwargs):
        pass

    @property
    def sender(self) -> str:
        """Return who messages come from (a number or a messaging service); pacing keys on it."""
        return self.__class__.__name__

    def sender_for(self, to: str) -> str:
        """Return who a message to ``to`` comes from: the WhatsApp sender for a WhatsApp
        address, else ``sender``."""
        return self.sender

    def send(
        self,
        *,
        to: str,
        body: str,
        status_callback: str | None = None,
        content_sid: str = "",
    ) -> SentMessage:
        """Hand one message to the provider and return its sid; raise SmsError on failure.

        With ``content_sid`` the message is an approved template (WhatsApp outside its 24-hour
        window) and ``body`` holds its variables as JSON.
        """
        raise NotImplementedError

    def find_sent(self, *, to: str, body: str, since: datetime) -> SentMessage | None:
        """Return the message to ``to`` with this body that the provider accepted since
        ``since``, or None. Raise SmsError(permanent=False) when the provider cannot be asked.

        Called before sending again a message whose last attempt may have reached the provider.
        A backend that cannot look messages up returns None.
        """
        return None
