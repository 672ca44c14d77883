import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from assistant.delivery.backends.base import BaseSmsBackend, SentMessage

# Like django.core.mail.outbox: tests read what would have been sent.
outbox: list["OutboxMessage"] = []


@dataclass(frozen=True)
class OutboxMessage:
    sid: str
    to: str
    body: str
    status_callback: str | None
    content_sid: str = ""
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))


class LocmemBackend(BaseSmsBackend):
    """Keep messages in ``assistant.delivery.backends.locmem.outbox`` (tests only)."""

    def send(
        self,
        *,
        to: str,
        body: str,
        status_callback: str | None = None,
        content_sid: str = "",
    ) -> SentMessage:
        """Append the message to the outbox and return a made-up sid."""
        sid = "SMlocmem" + uuid.uuid4().hex[:24]
        outbox.append(
            OutboxMessage(
                sid=sid,
                to=to,
                body=body,
                status_callback=status_callback,
                content_sid=content_sid,
            )
        )
        return SentMessage(sid=sid)

    def find_sent(self, *, to: str, body: str, since: datetime) -> SentMessage | None:
        """Return the outbox message to ``to`` with this body sent since ``since``, if any."""
        for message in reversed(outbox):
            if message.to == to and message.body == body and message.created_at >= since:
                return SentMessage(sid=message.sid)
        return None
