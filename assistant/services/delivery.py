"""Sending SMS: queue a message, deliver it exactly once, and follow its status.

Every reply and alert leaves through ``outbound_queue`` (or ``replies_dispatch`` from the
inbound webhook) and the ``deliver`` task, which calls ``outbound_deliver``. How a message is
never lost and never sent twice:

- The row is written first and the task enqueued on commit; a task that is lost anyway (Redis
  restarted without its data) is put back by ``outbound_requeue_stale``, on a schedule.
- Before every provider call the message is marked ``sending`` with the attempt time and
  ``outcome_unknown``, committed. If the worker dies or the answer is lost, the next run finds
  that mark and looks the message up at the provider (``find_sent``) before sending again;
  while an attempt may still be in flight (``TWILIO_TIMEOUT_SECONDS`` plus a margin) it waits.
- A message that has a provider sid is never sent again, and its status only moves forward.

No phone number or text is ever logged: log lines name the message id only.
"""

import logging
import random
import time
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Case, Exists, F, OuterRef, Value, When
from django.urls import reverse
from django.utils import timezone

from assistant.models import OptOut, OutboundMessage
from assistant.sms.backends import get_backend
from assistant.sms.backends.base import SmsError
from assistant.sms.pacing import pace_reserve
from assistant.sms.segments import count_segments

logger = logging.getLogger(__name__)

Status = OutboundMessage.Status

# Twilio's callback statuses, mapped to ours. Those it sends before "sending" change nothing.
CALLBACK_STATUSES = {
    "accepted": Status.QUEUED,
    "scheduled": Status.QUEUED,
    "queued": Status.QUEUED,
    "sending": Status.SENDING,
    "sent": Status.SENT,
    "delivered": Status.DELIVERED,
    "read": Status.DELIVERED,
    "undelivered": Status.UNDELIVERED,
    "failed": Status.FAILED,
    "canceled": Status.FAILED,
}
OPTED_OUT_CODE = 21610
_PENDING_STATUS_KEY = "delivery:pending-status:{sid}"


class DeliveryDeferred(Exception):
    """Not this message's turn yet (pacing, or an attempt may still be in flight).

    Not a failed attempt: the task re-queues the message after ``countdown`` seconds.
    """

    def __init__(self, countdown: float, reason: str):
        super().__init__(reason)
        self.countdown = countdown


class DeliveryRetry(Exception):
    """A transient failure: the task re-queues the message after ``countdown`` seconds."""

    def __init__(self, countdown: float, reason: str):
        super().__init__(reason)
        self.countdown = countdown


def _new_message(*, to: str, body: str, purpose: str, language: str, sender: str):
    count = count_segments(body)
    message = OutboundMessage(
        purpose=purpose,
        language=language,
        sender=sender,
        segments=count.segments,
        encoding=count.encoding,
    )
    message.set_recipient(to)
    message.set_body(body)
    return message


@transaction.atomic
def outbound_queue(
    *, to: str, body: str, purpose: str = "reply", language: str = ""
) -> OutboundMessage:
    """Store a message for ``to`` (encrypted); enqueue its delivery when the transaction commits."""
    from assistant.tasks import deliver

    message = _new_message(
        to=to, body=body, purpose=purpose, language=language, sender=get_backend().sender
    )
    message.save()
    deliver.delay_on_commit(message.pk)
    return message


@transaction.atomic
def outbound_queue_many(
    *, messages: list[tuple[str, str, str]], purpose: str = "reply"
) -> list[OutboundMessage]:
    """Store many messages, given as (to, body, language), in one insert; enqueue on commit.

    The bulk path for alerts: every number and text is encrypted as in ``outbound_queue``,
    the rows are written together, and their deliveries are enqueued through one broker
    connection once the caller's transaction commits. A task lost between the commit and the
    enqueue is put back by ``outbound_requeue_stale``.
    """
    from assistant.tasks import deliver

    sender = get_backend().sender
    counts: dict[str, object] = {}
    rows = []
    for to, body, language in messages:
        count = counts.get(body) or counts.setdefault(body, count_segments(body))
        row = OutboundMessage(
            purpose=purpose,
            language=language,
            sender=sender,
            segments=count.segments,
            encoding=count.encoding,
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
    *, to: str, bodies: list[str], language: str, in_twiml: bool = False
) -> list[str]:
    """Queue the replies to an inbound message; return the ones the webhook must answer itself.

    When the broker is reachable the replies are queued and the list is empty. When it is
    down, the replies are recorded as answered in the webhook's TwiML (channel "twiml", their
    number and text not kept) and returned for the webhook to put in its response. Either way
    every reply has a row, so nothing is lost. ``in_twiml`` answers in the TwiML whatever
    the broker's state (the confirmation of an opt-out, which the queue would not send).
    """
    from assistant.health import broker_state
    from assistant.tasks import deliver

    bodies = [body for body in bodies if body]
    if not bodies:
        return []
    sender = get_backend().sender
    if not in_twiml and broker_state() != "down":
        with transaction.atomic():
            messages = [
                _new_message(to=to, body=b, purpose="reply", language=language, sender=sender)
                for b in bodies
            ]
            OutboundMessage.objects.bulk_create(messages)
            for message in messages:
                transaction.on_commit(lambda pk=message.pk: _enqueue(deliver, pk), robust=True)
        return []
    now = timezone.now()
    with transaction.atomic():
        records = []
        for body in bodies:
            count = count_segments(body)
            records.append(
                OutboundMessage(
                    channel=OutboundMessage.Channel.TWIML,
                    status=Status.SENT,
                    purpose="reply",
                    language=language,
                    sender=sender,
                    segments=count.segments,
                    encoding=count.encoding,
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
        task.apply_async(args=[message_id], retry=False)
    except Exception:
        # The row is committed as queued; outbound_requeue_stale will enqueue it again.
        logger.exception("Could not enqueue message %s; it will be re-queued later.", message_id)


def _lease() -> timedelta:
    """Return how long an attempt may still be in flight after it started."""
    return timedelta(seconds=settings.TWILIO_TIMEOUT_SECONDS + 5)


def _backoff(attempts: int) -> float:
    """Return an exponential delay with jitter ("equal jitter") after ``attempts`` attempts."""
    ceiling = min(
        settings.CELERY_TASK_MAX_RETRY_DELAY,
        settings.SMS_RETRY_BASE_DELAY_SECONDS * 2 ** max(0, attempts - 1),
    )
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def _advance(message: OutboundMessage, status: str) -> bool:
    """Move ``message`` forward to ``status``; return False (and change nothing) otherwise."""
    if message.is_final:
        return False
    if OutboundMessage.STATUS_RANK[status] <= OutboundMessage.STATUS_RANK[message.status]:
        return False
    message.status = status
    if message.is_final:
        message.finished_at = timezone.now()
        message.wipe_personal_data()
    return True


def _fail(message: OutboundMessage, *, code: int | None, reason: str) -> None:
    message.last_error_code = code
    message.last_error_message = reason[:255]
    message.outcome_unknown = False
    _advance(message, Status.FAILED)
    message.save()
    logger.warning("Message %s failed (code %s): %s", message.pk, code, reason)


def outbound_deliver(*, message_id: int) -> str:
    """Send message ``message_id`` once, if it still needs sending; return what happened.

    Never calls the provider for a message that has a sid, that is final, or whose number
    has opted out (checked right before the call, for every sender). Raise DeliveryDeferred
    when it is not its turn yet and DeliveryRetry after a transient error; a permanent error,
    an opt-out or the last allowed attempt ends in ``failed``.
    """
    message = OutboundMessage.objects.filter(pk=message_id).first()
    if message is None:
        logger.warning("Message %s does not exist; nothing to send.", message_id)
        return "missing"
    if message.twilio_sid or message.status not in (Status.QUEUED, Status.SENDING):
        return "already-sent"
    backend = get_backend()

    if message.outcome_unknown:
        outcome = _settle_unknown_attempt(message, backend)
        if outcome:
            return outcome

    turn = pace_reserve(sender=message.sender, segments=message.segments)
    if not turn.granted:
        raise DeliveryDeferred(turn.wait, "waiting for the sender's turn")
    if turn.wait > 0:
        time.sleep(turn.wait)

    with transaction.atomic():
        # The opt-out check rides on the locking read: one query fewer per message.
        message = (
            OutboundMessage.objects.select_for_update(of=("self",))
            .annotate(
                opted_out=Exists(OptOut.objects.filter(phone_hash=OuterRef("recipient_hash")))
            )
            .get(pk=message_id)
        )
        if message.twilio_sid or message.status not in (Status.QUEUED, Status.SENDING):
            return "already-sent"
        if message.outcome_unknown:
            # Another run started an attempt since we looked.
            raise DeliveryDeferred(_lease().total_seconds(), "another attempt is in flight")
        if message.opted_out:
            _fail(message, code=None, reason="The number opted out before it was sent.")
            return "opted-out"
        message.attempts += 1
        message.last_attempt_at = timezone.now()
        message.outcome_unknown = True
        _advance(message, Status.SENDING)
        message.save()
        to, body = message.recipient(), message.body()

    status_callback = settings.PUBLIC_BASE_URL + reverse("sms_status")
    try:
        sent = backend.send(to=to, body=body, status_callback=status_callback)
    except SmsError as exc:
        countdown = _record_error(message_id, exc)
        if countdown is None:
            return "failed"
        raise DeliveryRetry(countdown, str(exc)) from None
    _record_sid(message_id, sent.sid)
    return "sent"


def _settle_unknown_attempt(message: OutboundMessage, backend) -> str | None:
    """Find out whether the last attempt reached the provider; return an outcome if it did."""
    started = message.last_attempt_at or message.updated_at
    in_flight_until = started + _lease()
    now = timezone.now()
    if now < in_flight_until:
        raise DeliveryDeferred(
            (in_flight_until - now).total_seconds(), "the last attempt may still be in flight"
        )
    try:
        found = backend.find_sent(to=message.recipient(), body=message.body(), since=started)
    except SmsError as exc:
        raise DeliveryRetry(_backoff(message.attempts), str(exc)) from None
    if found:
        logger.info("Message %s was accepted by the last attempt; not sending again.", message.pk)
        _record_sid(message.pk, found.sid)
        return "found"
    with transaction.atomic():
        locked = OutboundMessage.objects.select_for_update().get(pk=message.pk)
        if locked.last_attempt_at == message.last_attempt_at and not locked.twilio_sid:
            locked.outcome_unknown = False
            locked.save(update_fields=["outcome_unknown", "updated_at"])
    return None


def _record_sid(message_id: int, sid: str) -> None:
    """Save the provider's sid; the status moves to sent (forward only)."""
    if cache.get(_PENDING_STATUS_KEY.format(sid=sid)) is None:
        # The usual case, in one statement: no callback came before the sid was saved.
        # The CASE keeps the status forward-only (a final status is never touched).
        OutboundMessage.objects.filter(pk=message_id).update(
            twilio_sid=sid,
            outcome_unknown=False,
            status=Case(
                When(status__in=[Status.QUEUED, Status.SENDING], then=Value(Status.SENT)),
                default=F("status"),
            ),
            updated_at=timezone.now(),
        )
        logger.info("Message %s handed to the provider as %s.", message_id, sid)
        if cache.get(_PENDING_STATUS_KEY.format(sid=sid)) is None:
            return
        # A callback came in while the sid was being saved: apply it now.
    _record_sid_with_pending_status(message_id, sid)


@transaction.atomic
def _record_sid_with_pending_status(message_id: int, sid: str) -> None:
    message = OutboundMessage.objects.select_for_update().get(pk=message_id)
    message.twilio_sid = sid
    message.outcome_unknown = False
    _advance(message, Status.SENT)
    pending = cache.get(_PENDING_STATUS_KEY.format(sid=sid))
    if pending:
        status, error_code = pending
        if error_code:
            message.last_error_code = error_code
        _advance(message, status)
        cache.delete(_PENDING_STATUS_KEY.format(sid=sid))
    message.save()
    logger.info("Message %s handed to the provider as %s.", message_id, sid)


@transaction.atomic
def _record_error(message_id: int, exc: SmsError) -> float | None:
    """Record a failed attempt; return the countdown before a retry, or None if it failed."""
    message = OutboundMessage.objects.select_for_update().get(pk=message_id)
    message.last_error_code = exc.code
    message.last_error_message = str(exc)[:255]
    message.outcome_unknown = exc.maybe_accepted
    if exc.permanent:
        if exc.code == OPTED_OUT_CODE:
            _record_carrier_opt_out(message)
        _fail(message, code=exc.code, reason=str(exc))
        return None
    if message.attempts >= settings.SMS_RETRY_MAX_ATTEMPTS:
        _fail(
            message,
            code=exc.code,
            reason=f"Gave up after {message.attempts} attempts. Last error: {exc}",
        )
        return None
    message.save()
    logger.warning(
        "Message %s attempt %d failed (code %s), will retry: %s",
        message_id,
        message.attempts,
        exc.code,
        exc,
    )
    return _backoff(message.attempts)


def _record_carrier_opt_out(message: OutboundMessage) -> None:
    if message.recipient_hash:
        OptOut.objects.get_or_create(
            phone_hash=message.recipient_hash,
            # Encrypted, only so the opt-out survives a new PHONE_HASH_KEY (empty once wiped).
            defaults={
                "source": OptOut.Source.CARRIER,
                "number_encrypted": message.recipient_encrypted,
            },
        )


@transaction.atomic
def outbound_fail(*, message_id: int, reason: str, code: int | None = None) -> bool:
    """Mark message ``message_id`` failed with ``reason`` unless it already has a sid or is final.

    Used when its task gave up (the worker died too often). Return whether it changed.
    """
    message = OutboundMessage.objects.select_for_update().filter(pk=message_id).first()
    if message is None or message.twilio_sid or message.is_final:
        return False
    _fail(message, code=code, reason=reason)
    return True


@transaction.atomic
def outbound_status_update(*, sid: str, status: str, error_code: int | None = None) -> bool:
    """Apply Twilio's status callback for ``sid``; return whether the message changed.

    The status only moves forward. An unknown status changes nothing. A sid we do not know
    yet may belong to a message whose sid is being saved right now: its status is kept for a
    while and applied when the sid is saved.
    """
    target = CALLBACK_STATUSES.get(status)
    if target is None:
        logger.warning("Status callback with an unknown status %r; ignored.", status[:32])
        return False
    message = OutboundMessage.objects.select_for_update().filter(twilio_sid=sid).first()
    if message is None:
        cache.set(_PENDING_STATUS_KEY.format(sid=sid), (target, error_code), timeout=15 * 60)
        logger.info("Status callback for a sid we do not know (yet); kept for 15 minutes.")
        return False
    changed = False
    if error_code and message.last_error_code != error_code and not message.is_final:
        message.last_error_code = error_code
        message.last_error_message = f"Twilio reported error {error_code}."
        changed = True
    if error_code == OPTED_OUT_CODE:
        _record_carrier_opt_out(message)
    changed = _advance(message, target) or changed
    if changed:
        message.save()
    return changed


def outbound_requeue_stale(*, older_than: timedelta | None = None) -> int:
    """Enqueue again every message that has waited too long without a final answer.

    Covers a task lost with Redis's data, or a worker killed while the broker would only
    redeliver after its visibility timeout. Safe because delivery is idempotent. Return how
    many were re-queued.
    """
    from assistant.tasks import deliver

    if older_than is None:
        older_than = timedelta(seconds=settings.SMS_REQUEUE_AFTER_SECONDS)
    cutoff = timezone.now() - older_than
    stale = list(
        OutboundMessage.objects.filter(
            channel=OutboundMessage.Channel.API,
            status__in=[Status.QUEUED, Status.SENDING],
            twilio_sid__isnull=True,
            updated_at__lt=cutoff,
        ).values_list("pk", flat=True)[:1000]
    )
    if not stale:
        return 0
    OutboundMessage.objects.filter(pk__in=stale).update(updated_at=timezone.now())
    for message_id in stale:
        deliver.apply_async(args=[message_id])
    logger.info("Re-queued %d stale message(s).", len(stale))
    return len(stale)
