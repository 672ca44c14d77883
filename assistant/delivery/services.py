"""Queue outbound messages: the way every reply and alert leaves (see delivery.sending)."""

import logging

from django.db import transaction
from django.utils import timezone

from assistant.delivery.backends import get_backend
from assistant.delivery.broker import broker_state
from assistant.delivery.models import OutboundMessage
from assistant.delivery.recovery import outbound_requeue_stale
from assistant.delivery.segments import count_segments
from assistant.delivery.sending import REPLIES_QUEUE
from assistant.delivery.tasks import deliver
from assistant.privacy import is_whatsapp, phone_hash
from assistant.sql import insert_all

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
    queue = REPLIES_QUEUE if purpose == OutboundMessage.REPLY else None
    transaction.on_commit(lambda: _enqueue([message.pk], queue=queue), robust=True)
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
    transaction.on_commit(lambda: _enqueue(ids), robust=True)
    return rows


def _enqueue(message_ids: list[int], *, queue: str | None = None) -> None:
    """Enqueue the deliver task for each id through one producer (one broker connection)."""
    try:
        deliver.enqueue(message_ids, queue=queue, retry=False)
    except Exception:
        # The rows are committed as queued; outbound_requeue_stale will enqueue them again.
        logger.exception(
            "Could not enqueue %d message(s); they will be re-queued shortly.", len(message_ids)
        )


def _send_here(message: OutboundMessage) -> None:
    """Send a worker's first reply in that worker, as its deliver task would."""
    try:
        deliver.run_here(message.pk, queue=REPLIES_QUEUE, created=message)
    except Exception:
        # Left queued with its lease: outbound_requeue_stale enqueues it once the lease ends.
        logger.exception("Reply %s not sent by the worker that wrote it.", message.pk)


def _earlier_replies_taken_into_twiml(to: str, now) -> list[OutboundMessage]:
    """Take this number's replies still queued for the API, oldest first, to answer in TwiML.

    With the broker down, a worker cannot send them; answered after them, the resident would
    read this text's answer before the earlier one's. Only replies no attempt has reached
    Twilio with (queued, outcome known) are taken, under their row lock, skipping any a worker
    holds at this moment; a worker that takes one later finds it sent and leaves it.
    """
    earlier = list(
        OutboundMessage.objects.select_for_update(skip_locked=True)
        .filter(
            purpose=OutboundMessage.REPLY,
            channel=OutboundMessage.Channel.API,
            recipient_hash=phone_hash(to),
            status=Status.QUEUED,
            outcome_unknown=False,
            twilio_sid__isnull=True,
        )
        .order_by("pk")
    )
    for message in earlier:
        message.channel = OutboundMessage.Channel.TWIML
        message.status = Status.SENT
        message.attempts += 1
        message.last_attempt_at = now
        message.updated_at = now
    return earlier


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
            insert_all(messages)
            # Only the first: each reply, once sent, hands the next to a worker, so they
            # arrive in order (see delivery.sending.reply_release_next).
            first = messages[0].pk
            if twiml_fallback or deliver.app.conf.task_always_eager:
                transaction.on_commit(lambda: _enqueue([first], queue=REPLIES_QUEUE), robust=True)
            else:
                # A worker that has just answered a text sends the first reply itself: no
                # hop through the broker to another worker.
                transaction.on_commit(lambda: _send_here(messages[0]), robust=True)
        return []
    now = timezone.now()
    with transaction.atomic():
        earlier = [] if in_twiml else _earlier_replies_taken_into_twiml(to, now)
        bodies = [message.body() for message in earlier] + bodies
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
        for message in earlier:
            message.wipe_personal_data()
        OutboundMessage.objects.bulk_update(
            earlier,
            [
                "channel", "status", "attempts", "last_attempt_at", "updated_at",
                "recipient_encrypted", "recipient_hash", "body_encrypted",
            ],
        )  # fmt: skip
    if earlier:
        logger.warning(
            "Broker down: %d earlier repl%s still queued for this number went first in the "
            "TwiML (messages %s).",
            len(earlier),
            "y" if len(earlier) == 1 else "ies",
            ", ".join(str(m.pk) for m in earlier),
        )
    logger.log(
        logging.INFO if in_twiml else logging.WARNING,
        "%s: answered %d repl%s in TwiML (messages %s).",
        "Opt-out" if in_twiml else "Broker down",
        len(records),
        "y" if len(records) == 1 else "ies",
        ", ".join(str(m.pk) for m in records),
    )
    return bodies


__all__ = [
    "outbound_queue",
    "outbound_queue_many",
    "outbound_requeue_stale",  # from delivery.recovery, where the beat task finds it
    "replies_dispatch",
]
