"""Queue outbound messages: the way every reply and alert leaves (see delivery.sending)."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from assistant.delivery.backends import get_backend
from assistant.delivery.broker import broker_state
from assistant.delivery.models import OutboundMessage
from assistant.delivery.segments import count_segments
from assistant.delivery.sending import REPLIES_QUEUE
from assistant.delivery.tasks import deliver
from assistant.privacy import is_whatsapp

logger = logging.getLogger(__name__)

Status = OutboundMessage.Status


def _cost(to: str, body: str) -> tuple[int, str]:
    # WhatsApp has no segments: a message is one unit of the sender's pace whatever its length.
    if is_whatsapp(to):
        return 1, ""
    count = count_segments(body)
    return count.segments, count.encoding


def _new_message(
    *, to: str, body: str, purpose: str, language: str, sender: str, content_sid: str = ""
):
    segments, encoding = _cost(to, body)
    message = OutboundMessage(
        purpose=purpose,
        language=language,
        sender=sender,
        segments=segments,
        encoding=encoding,
        content_sid=content_sid,
    )
    message.set_recipient(to)
    message.set_body(body)
    return message


@transaction.atomic
def outbound_queue(
    *, to: str, body: str, purpose: str = "reply", language: str = ""
) -> OutboundMessage:
    """Store a message for ``to`` (encrypted); enqueue its delivery when the transaction commits."""

    message = _new_message(
        to=to, body=body, purpose=purpose, language=language, sender=get_backend().sender_for(to)
    )
    message.save()
    if purpose == OutboundMessage.REPLY:
        transaction.on_commit(lambda: _enqueue(deliver, message.pk), robust=True)
    else:
        deliver.delay_on_commit(message.pk)
    return message


@transaction.atomic
def outbound_queue_many(*, messages: list[tuple], purpose: str = "reply") -> list[OutboundMessage]:
    """Store many messages, given as (to, body, language[, content_sid]), in one insert;
    enqueue on commit.

    The bulk path for alerts: every number and text is encrypted as in ``outbound_queue``,
    the rows are written together, and their deliveries are enqueued through one broker
    connection once the caller's transaction commits. A task lost between the commit and the
    enqueue is put back by ``outbound_requeue_stale``.
    """

    backend = get_backend()
    counts: dict[tuple[bool, str], tuple[int, str]] = {}
    rows = []
    for to, body, language, *template in messages:
        key = (is_whatsapp(to), body)
        if key not in counts:
            counts[key] = _cost(to, body)
        segments, encoding = counts[key]
        row = OutboundMessage(
            purpose=purpose,
            language=language,
            sender=backend.sender_for(to),
            segments=segments,
            encoding=encoding,
            content_sid=template[0] if template else "",
        )
        row.set_recipient(to)
        row.set_body(body)
        rows.append(row)
    OutboundMessage.objects.bulk_create(rows)
    ids = [row.pk for row in rows]
    transaction.on_commit(lambda: _enqueue_many(deliver, ids), robust=True)
    return rows


def _enqueue_many(task, message_ids: list[int]) -> None:
    """Enqueue ``task`` for each id through one producer (one broker connection)."""
    try:
        with task.app.producer_or_acquire() as producer:
            for message_id in message_ids:
                task.apply_async(args=[message_id], producer=producer, retry=False)
    except Exception:
        # The rows are committed as queued; outbound_requeue_stale will enqueue them again.
        logger.exception(
            "Could not enqueue %d message(s); they will be re-queued later.", len(message_ids)
        )


def replies_dispatch(
    *,
    to: str,
    bodies: list[str],
    language: str,
    in_twiml: bool = False,
    twiml_fallback: bool = True,
) -> list[str]:
    """Queue the replies to an inbound message; return the ones the webhook must answer itself.

    When the broker is reachable the replies are queued and the list is empty. When it is
    down, the replies are recorded as answered in the webhook's TwiML (channel "twiml", their
    number and text not kept) and returned for the webhook to put in its response. Either way
    every reply has a row, so nothing is lost. ``in_twiml`` answers in the TwiML whatever
    the broker's state (the confirmation of an opt-out, which the queue would not send).
    ``twiml_fallback=False`` is for a worker, which has no TwiML to answer in: its replies
    are queued even when the broker is down, and ``outbound_requeue_stale`` sends them later.
    """

    bodies = [body for body in bodies if body]
    if not bodies:
        return []
    sender = get_backend().sender_for(to)
    if not in_twiml and (not twiml_fallback or broker_state() != "down"):
        # No savepoint: inside the caller's transaction a failure rolls back the whole turn.
        with transaction.atomic(savepoint=False):
            messages = [
                _new_message(to=to, body=b, purpose="reply", language=language, sender=sender)
                for b in bodies
            ]
            OutboundMessage.objects.bulk_create(messages)
            # Only the first: each reply, once sent, hands the next to a worker, so they
            # arrive in order (see delivery.sending.reply_release_next).
            first = messages[0].pk
            transaction.on_commit(lambda: _enqueue(deliver, first), robust=True)
        return []
    now = timezone.now()
    with transaction.atomic():
        records = []
        for body in bodies:
            segments, encoding = _cost(to, body)
            records.append(
                OutboundMessage(
                    channel=OutboundMessage.Channel.TWIML,
                    status=Status.SENT,
                    purpose="reply",
                    language=language,
                    sender=sender,
                    segments=segments,
                    encoding=encoding,
                    last_attempt_at=now,
                    attempts=1,
                )
            )
        OutboundMessage.objects.bulk_create(records)
    logger.log(
        logging.INFO if in_twiml else logging.WARNING,
        "%s: answered %d repl%s in TwiML (messages %s).",
        "Opt-out" if in_twiml else "Broker down",
        len(records),
        "y" if len(records) == 1 else "ies",
        ", ".join(str(m.pk) for m in records),
    )
    return bodies


def _enqueue(task, message_id: int) -> None:
    try:
        task.apply_async(args=[message_id], retry=False, queue=REPLIES_QUEUE)
    except Exception:
        # The row is committed as queued; outbound_requeue_stale will enqueue it again.
        logger.exception("Could not enqueue message %s; it will be re-queued later.", message_id)


def outbound_requeue_stale(*, older_than: timedelta | None = None) -> int:
    """Enqueue again every message that has waited too long without a final answer.

    Covers a task lost with Redis's data, or a worker killed while the broker would only
    redeliver after its visibility timeout. Safe because delivery is idempotent. Return how
    many were re-queued.
    """

    if older_than is None:
        older_than = timedelta(seconds=settings.SMS_REQUEUE_AFTER_SECONDS)
    cutoff = timezone.now() - older_than
    stale = dict(
        OutboundMessage.objects.filter(
            channel=OutboundMessage.Channel.API,
            status__in=[Status.QUEUED, Status.SENDING],
            twilio_sid__isnull=True,
            updated_at__lt=cutoff,
        ).values_list("pk", "purpose")[:1000]
    )
    if not stale:
        return 0
    OutboundMessage.objects.filter(pk__in=stale).update(updated_at=timezone.now())
    for message_id, purpose in stale.items():
        queue = REPLIES_QUEUE if purpose == OutboundMessage.REPLY else None
        deliver.apply_async(args=[message_id], queue=queue)
    logger.info("Re-queued %d stale message(s).", len(stale))
    return len(stale)
