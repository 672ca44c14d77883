import uuid
from collections.abc import Container
from dataclasses import dataclass, field
from datetime import UTC, datetime

from assistant.delivery.backends.base import BaseSmsBackend, SentMessage

# Like django.core.mail.outbox: tests read what would have been sent.
outbox: list["OutboxMessage"] = []
# What the provider would say of each sid now (``fetch_status``); "sent" when not set.
statuses: dict[str, tuple[str, int | None]] = {}


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

    def find_sent(
        self,
        *,
        to: str,
        body: str,
        since: datetime,
        until: datetime | None = None,
        exclude_sids: Container[str] = frozenset(),
    ) -> SentMessage | None:
        """Return the outbox message to ``to`` with this body sent between ``since`` and
        ``until`` whose sid is not excluded, if any."""
        for message in outbox:
            if message.to != to or message.body != body or message.sid in exclude_sids:
                continue
            if message.created_at >= since and (until is None or message.created_at <= until):
                return SentMessage(sid=message.sid)
        return None

    def fetch_status(self, *, sid: str) -> SentMessage | None:
        """Return the status ``statuses`` holds for ``sid`` ("sent" by default), or None."""
        if not any(message.sid == sid for message in outbox):
            return None
        status, error_code = statuses.get(sid, ("sent", None))
        return SentMessage(sid=sid, status=status, error_code=error_code)
