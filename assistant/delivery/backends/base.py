from collections.abc import Container
from dataclasses import dataclass
from datetime import datetime


class SmsError(Exception):
    """A message could not be handed to the SMS provider.

    ``permanent`` says whether trying again can help: a bad or opted-out number will never
    work, a rate limit or an outage may pass. ``maybe_accepted`` says the provider may have
    taken the message all the same (a timeout, a dropped connection, an answer we could not
    read): it must be looked up with ``find_sent`` before it is sent again. ``rate_limited``
    says the provider refused it because we asked too fast (Twilio's 429): it did not take
    it, and the message only has to wait.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        code: int | None = None,
        maybe_accepted: bool = False,
        rate_limited: bool = False,
    ):
        super().__init__(message)
        self.permanent = permanent
        self.code = code
        self.maybe_accepted = maybe_accepted
        self.rate_limited = rate_limited


@dataclass(frozen=True)
class SentMessage:
    """What the provider says of a message it accepted: its sid, status and error code."""

    sid: str
    status: str = "queued"
    error_code: int | None = None


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

    def find_sent(
        self,
        *,
        to: str,
        body: str,
        since: datetime,
        until: datetime | None = None,
        exclude_sids: Container[str] = frozenset(),
    ) -> SentMessage | None:
        """Return the message to ``to`` with this body that the provider accepted between
        ``since`` and ``until`` and whose sid is not in ``exclude_sids``, or None. Raise
        SmsError(permanent=False) when the provider cannot be asked.

        Called before sending again a message whose last attempt may have reached the provider.
        ``exclude_sids`` holds the sids that belong to our other messages (the same text to the
        same number a minute earlier is not this one). A backend that cannot look messages up
        returns None.
        """
        return None

    def fetch_status(self, *, sid: str) -> SentMessage | None:
        """Return what the provider says now of message ``sid``, or None when it cannot say.

        Raise SmsError(permanent=False) when the provider cannot be asked. Used to close a
        message whose final status callback never came.
        """
        return None
