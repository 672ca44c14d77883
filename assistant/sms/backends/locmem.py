import uuid
from dataclasses import dataclass

from assistant.sms.backends.base import BaseSmsBackend, SentMessage

# Like django.core.mail.outbox: tests read what would have been sent.
outbox: list["OutboxMessage"] = []


@dataclass(frozen=True)
class OutboxMessage:
    sid: str
    to: str
    body: str
    status_callback: str | None


class LocmemBackend(BaseSmsBackend):
    """Keep messages in ``assistant.sms.backends.locmem.outbox`` (tests only)."""

    def send(self, *, to: str, body: str, status_callback: str | None = None) -> SentMessage:
        """Append the message to the outbox and return a made-up sid."""
        sid = "SMlocmem" + uuid.uuid4().hex[:24]
        outbox.append(OutboxMessage(sid=sid, to=to, body=body, status_callback=status_callback))
        return SentMessage(sid=sid)
