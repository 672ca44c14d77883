"""What delivery leaves behind, found and finished on a schedule (celery beat).

- ``outbound_requeue_stale`` (every few seconds): a queued or sending message that no task
  holds any more (its lease ended, see delivery.leases) is enqueued again.
- ``outbound_close_sent`` (every few minutes): a message sent long ago whose final status
  callback never came (our site or database was down: Twilio does not send a callback again
  later, it retries at most once on a failed connection within 15 seconds, per its webhook
  connection settings) is looked up at Twilio by sid and closed with Twilio's answer, or
  closed as it is when Twilio cannot say.
- ``outbound_expire`` (daily, from purge_expired): a message still not finished long after
  it was queued loses its number and text whatever its state; unsent, it fails.

Each is safe to run twice at once: delivery is idempotent, and the closing only moves a
status forward.
"""

import logging
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from assistant.delivery.backends import get_backend
from assistant.delivery.backends.base import SmsError
from assistant.delivery.leases import lease_unheld
from assistant.delivery.models import OutboundMessage
from assistant.delivery.sending import (
    CALLBACK_STATUSES,
    REPLIES_QUEUE,
    earlier_reply_pending,
    outbound_status_update,
)

logger = logging.getLogger(__name__)

Status = OutboundMessage.Status

# A row written this recently may still have its enqueue under way (on commit).
_UNTOUCHED_FOR = timedelta(seconds=5)
# At most this many messages are looked at in one run; the next run takes the rest.
_REQUEUE_BATCH = 20_000
_LEASE_CHECK_CHUNK = 1_000


def outbound_requeue_stale(*, older_than: timedelta | None = None) -> int:
    """Enqueue again every queued or sending message that no task holds; return how many.

    Covers a task lost with Redis's data, an enqueue the broker refused, and a worker that
    died with the tasks it had taken (Redis would give those back only after its visibility
    timeout, hours later). A message is re-queued once its lease has ended, seconds after its
    task died; a message whose task still lives is left alone, and would not be sent twice if
    it were not. A reply waiting behind an earlier reply to the same number is left to that
    one, which hands it on. ``older_than``: only rows untouched that long (default 5 s).
    """
    cutoff = timezone.now() - (older_than if older_than is not None else _UNTOUCHED_FOR)
    # Index (status, updated_at): the query reads the unfinished rows only.
    candidates = list(
        OutboundMessage.objects.filter(
            status__in=[Status.QUEUED, Status.SENDING],
            updated_at__lt=cutoff,
            channel=OutboundMessage.Channel.API,
            twilio_sid__isnull=True,
        )
        .exclude(Q(purpose=OutboundMessage.REPLY) & earlier_reply_pending())
        .values_list("pk", "purpose")[:_REQUEUE_BATCH]
    )
    if not candidates:
        return 0
    purposes = dict(candidates)
    ids = list(purposes)
    try:
        lost = []
        for start in range(0, len(ids), _LEASE_CHECK_CHUNK):
            lost += lease_unheld(ids[start : start + _LEASE_CHECK_CHUNK])
    except Exception:
        # The cache is the broker's Redis: down, nothing could be enqueued anyway.
        logger.warning("Could not read the delivery leases; nothing re-queued.", exc_info=True)
        return 0
    if not lost:
        return 0
    replies = [pk for pk in lost if purposes[pk] == OutboundMessage.REPLY]
    others = [pk for pk in lost if purposes[pk] != OutboundMessage.REPLY]
    # By name: the deliver task's module imports this one.
    deliver = current_app.tasks["assistant.tasks.deliver"]
    try:
        for queue, batch in ((REPLIES_QUEUE, replies), (None, others)):
            if batch:
                deliver.enqueue(batch, queue=queue)
    except Exception:
        logger.warning("Could not re-queue stranded messages.", exc_info=True)
        return 0
    logger.info("Re-queued %d stranded message(s).", len(lost))
    return len(lost)


def outbound_close_sent(*, older_than: timedelta | None = None, limit: int = 200) -> int:
    """Close the messages sent longer than ``older_than`` ago with no final status.

    Each is fetched from Twilio by its sid: a final status there (delivered, undelivered,
    failed) is applied as its callback would have been. When Twilio cannot say (it still
    says "sent": no delivery report from the carrier; it does not know the sid; we never
    learnt one) the message is closed as it is: it stays ``sent``, its number and text are
    wiped, ``finished_at`` is set and ``last_error_message`` says why, for the admin. A late
    callback still moves it forward. Twilio unreachable: the run stops; the next one goes on.
    Return how many were closed either way.
    """
    if older_than is None:
        older_than = timedelta(minutes=settings.SMS_SENT_CLOSE_AFTER_MINUTES)
    minutes = round(older_than.total_seconds() / 60)
    waiting = list(
        OutboundMessage.objects.filter(
            status=Status.SENT,
            updated_at__lt=timezone.now() - older_than,
            channel=OutboundMessage.Channel.API,
            finished_at__isnull=True,
        )
        .order_by("updated_at")
        .values_list("pk", "twilio_sid")[:limit]
    )
    if not waiting:
        return 0
    backend = get_backend()
    closed = 0
    for message_id, sid in waiting:
        if not sid:
            closed += _close_as_is(message_id, "No sid from Twilio, so no status to ask for.")
            continue
        try:
            answer = backend.fetch_status(sid=sid)
        except SmsError as exc:
            logger.warning("Could not ask Twilio about sent messages (%s); next run.", exc)
            break
        if answer is None:
            closed += _close_as_is(message_id, "Twilio could not say what became of it.")
            continue
        target = CALLBACK_STATUSES.get(answer.status)
        if target in OutboundMessage.FINAL_STATUSES:
            outbound_status_update(sid=sid, status=answer.status, error_code=answer.error_code)
            closed += 1
        else:
            closed += _close_as_is(
                message_id,
                f"No final status after {minutes} minutes; Twilio says {answer.status[:20]!r}.",
            )
    logger.info("Closed %d sent message(s) without a final status callback.", closed)
    return closed


def _close_as_is(message_id: int, reason: str) -> int:
    """Stop following a sent message: wipe its number and text; say why. Return 1 if done."""
    now = timezone.now()
    return OutboundMessage.objects.filter(
        pk=message_id, status=Status.SENT, finished_at__isnull=True
    ).update(
        finished_at=now,
        last_error_message=reason[:255],
        recipient_encrypted="",
        recipient_hash="",
        body_encrypted="",
        updated_at=now,
    )


def outbound_expire(*, older_than: timedelta | None = None) -> int:
    """Wipe the number and text of every message still unfinished ``older_than`` after it
    was queued (OUTBOUND_UNSENT_RETENTION_HOURS); return how many.

    Whatever its state: a message not sent by then can no longer be sent (its number is
    gone) and fails, saying so; one sent without a final status is closed as it is.
    """
    if older_than is None:
        older_than = timedelta(hours=settings.OUTBOUND_UNSENT_RETENTION_HOURS)
    now = timezone.now()
    hours = round(older_than.total_seconds() / 3600, 1)
    old = OutboundMessage.objects.filter(created_at__lt=now - older_than)
    wiped = {"recipient_encrypted": "", "recipient_hash": "", "body_encrypted": ""}
    failed = old.filter(status__in=[Status.QUEUED, Status.SENDING]).update(
        status=Status.FAILED,
        outcome_unknown=False,
        finished_at=now,
        last_error_message=(
            f"Expired: not sent within {hours:g} hours (or Twilio's answer was never known); "
            "its number and text were wiped."
        ),
        updated_at=now,
        **wiped,
    )
    closed = (
        old.filter(status=Status.SENT)
        .exclude(**wiped)
        .update(finished_at=Coalesce("finished_at", Value(now)), updated_at=now, **wiped)
    )
    if failed or closed:
        logger.info("Expired %d unsent message(s); closed %d sent ones.", failed, closed)
    return failed + closed
