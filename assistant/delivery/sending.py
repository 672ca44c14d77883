"""Sending SMS: queue a message, deliver it exactly once, and follow its status.

Every reply and alert leaves through ``outbound_queue`` (or ``replies_dispatch`` from the
inbound webhook) and the ``deliver`` task, which calls ``outbound_deliver``. How a message is
never lost and never sent twice:

- The row is written first and the task enqueued on commit; a task that is lost anyway (Redis
  restarted without its data, a worker gone with the tasks it held) is put back within
  seconds by ``outbound_requeue_stale``, on a schedule, once its lease ends (delivery.leases).
- Before every provider call the message is marked ``sending`` with the attempt time and
  ``outcome_unknown``, committed. If the worker dies or the answer is lost, the next run finds
  that mark and looks the message up at the provider (``find_sent``) before sending again;
  while an attempt may still be in flight (``TWILIO_TIMEOUT_SECONDS`` plus a margin) it waits.
  The look-up only takes a message created since that attempt began and not already another
  of ours, and it is bounded: a message is never left ``sending``.
- A message that has a provider sid is never sent again, and its status only moves forward.
  A ``sent`` message that gets no final status callback is asked about later
  (``outbound_close_sent``).

No phone number or text is ever logged: log lines name the message id only.
"""

import logging
import random
import time
from contextlib import nullcontext
from datetime import timedelta
from functools import lru_cache

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, Exists, F, OuterRef, Value, When
from django.urls import reverse
from django.utils import timezone
from redis.exceptions import RedisError

from assistant.delivery.backends import get_backend
from assistant.delivery.backends.base import SmsError
from assistant.delivery.leases import lease_hold, run_lease_seconds
from assistant.delivery.models import EarlyStatus, OptOut, OutboundMessage
from assistant.delivery.pacing import pace_reserve
from assistant.sql import instance_from_row, save_fields

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
# Conversational work (answering texts, sending replies) has a queue of its own, so a reply
# never waits behind an alert's thousands of messages. Every worker consumes it first.
REPLIES_QUEUE = "replies"
_PENDING_STATUS_KEY = "delivery:pending-status:{sid}"
# How long a status kept in PostgreSQL for a sid not saved yet waits for it (see EarlyStatus).
EARLY_STATUS_MINUTES = 15


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


def outbound_deliver(*, message_id: int, created: OutboundMessage | None = None) -> str:
    """Send message ``message_id`` once, if it still needs sending; return what happened.

    Never calls the provider for a message that has a sid, that is final, or whose number
    has opted out (checked right before the call, for every sender). Raise DeliveryDeferred
    when it is not its turn yet and DeliveryRetry after a transient error; a permanent error,
    an opt-out or the last allowed attempt ends in ``failed``.

    ``created`` is the message as its caller has just written and committed it (queued,
    never tried): the first read is skipped, as the locking read before the call checks
    everything again (a worker's first reply: one query fewer).
    """
    if created is not None:
        message = created
    else:
        message = _read_for_sending(message_id, lock=False)
        if message is None:
            logger.warning("Message %s does not exist; nothing to send.", message_id)
            return "missing"
        if message.twilio_sid or message.status not in (Status.QUEUED, Status.SENDING):
            return "already-sent"
        if message.earlier_reply_pending and message.purpose == OutboundMessage.REPLY:
            # The resident's earlier reply goes first; when it is sent (or fails) it hands
            # this one to a worker (reply_release_next).
            return "waiting-for-earlier"
    outcome = _deliver(message)
    if outcome in ("sent", "found", "failed", "opted-out"):
        reply_release_next(message)
    return outcome


def earlier_reply_pending() -> Exists:
    """Whether an earlier reply to the same number has not reached the provider yet.

    A resident's replies leave one after another, in the order they were written: with
    several workers, retries and pacing, two queued replies could otherwise overtake.
    """
    return Exists(
        OutboundMessage.objects.filter(
            purpose=OutboundMessage.REPLY,
            channel=OutboundMessage.Channel.API,
            recipient_hash=OuterRef("recipient_hash"),
            status__in=[Status.QUEUED, Status.SENDING],
            pk__lt=OuterRef("pk"),
        ).exclude(recipient_hash="")
    )


@lru_cache
def _statements(vendor: str) -> dict[str, str]:
    """The statements of every message's way to the provider, written out once.

    Built by hand from the models' own table and column names (the values are parameters):
    Django built the locking read, with its two correlated EXISTS, in about a quarter of a
    worker's time per message; these are the same statements as the ORM's, without that.
    """
    quote = connection.ops.quote_name
    outbound, optout = OutboundMessage._meta, OptOut._meta
    table = quote(outbound.db_table)

    def column(name: str, alias: str = "message") -> str:
        return f"{alias}.{quote(outbound.get_field(name).column)}"

    columns = ", ".join(f"message.{quote(f.column)}" for f in outbound.concrete_fields)
    # An earlier reply to the same number that has not reached the provider yet.
    earlier = (
        f"EXISTS (SELECT 1 FROM {table} earlier WHERE {column('purpose', 'earlier')} = %s "  # noqa: S608
        f"AND {column('channel', 'earlier')} = %s "
        f"AND {column('recipient_hash', 'earlier')} = {column('recipient_hash')} "
        f"AND {column('recipient_hash', 'earlier')} <> '' "
        f"AND {column('status', 'earlier')} IN (%s, %s) "
        f"AND {column('id', 'earlier')} < {column('id')})"
    )
    opted_out = (
        f"EXISTS (SELECT 1 FROM {quote(optout.db_table)} optout "  # noqa: S608
        f"WHERE optout.{quote(optout.get_field('phone_hash').column)} = "
        f"{column('recipient_hash')})"
    )
    read = (
        f"SELECT {columns}, {opted_out} AS opted_out, "  # noqa: S608
        f"{earlier} AS earlier_reply_pending "
        f"FROM {table} message WHERE {column('id')} = %s"
    )

    def bare(name: str) -> str:
        return quote(outbound.get_field(name).column)

    returning = ", ".join(quote(f.column) for f in outbound.concrete_fields)
    status = quote(outbound.get_field("status").column)
    return {
        "read": read,
        "read_locked": read + (" FOR UPDATE OF message" if vendor != "sqlite" else ""),
        "next_reply": (
            f"SELECT {column('id')} FROM {table} message "  # noqa: S608
            f"WHERE {column('purpose')} = %s AND {column('channel')} = %s "
            f"AND {column('recipient_hash')} = %s AND {column('status')} = %s "
            f"AND {column('id')} > %s ORDER BY {column('id')} LIMIT 1"
        ),
        # _take: the lease of _take_after_a_closer_look, where nothing stands in its way.
        "take": (
            f"UPDATE {table} AS message SET {bare('attempts')} = {column('attempts')} + 1, "  # noqa: S608
            f"{bare('last_attempt_at')} = %s, {bare('updated_at')} = %s, "
            f"{bare('outcome_unknown')} = true, {bare('status')} = %s "
            f"WHERE {column('id')} = %s "
            f"AND ({column('twilio_sid')} IS NULL OR {column('twilio_sid')} = '') "
            f"AND {column('status')} IN (%s, %s) AND NOT {column('outcome_unknown')} "
            f"AND {column('attempts')} - {column('rate_limits')} < %s "
            f"AND NOT {opted_out} AND NOT ({column('purpose')} = %s AND {earlier}) "
            f"RETURNING {returning}"
        ),
        # The CASE keeps the status forward-only (a final status is never touched).
        "record_sid": (
            f"UPDATE {table} SET {quote(outbound.get_field('twilio_sid').column)} = %s, "  # noqa: S608
            f"{quote(outbound.get_field('outcome_unknown').column)} = false, "
            f"{status} = CASE WHEN {status} IN (%s, %s) THEN %s ELSE {status} END, "
            f"{quote(outbound.get_field('updated_at').column)} = %s "
            f"WHERE {quote(outbound.pk.column)} = %s"
        ),
    }


def _take(message_id: int) -> OutboundMessage | None:
    """Mark message ``message_id`` sending for one attempt, in one statement; return it, or
    None when something may stand in its way (``_take_after_a_closer_look`` then says what).

    The UPDATE's WHERE holds every condition of the closer look: no sid, not final, no
    attempt in flight, attempts left, the number not opted out, no earlier reply to it
    unsent. One round trip, committed on its own, instead of four (BEGIN, the locking read,
    the UPDATE, COMMIT): the same row lock, held for one statement.
    """
    now = _now_for_sql()
    params = [
        now,
        now,
        Status.SENDING,
        message_id,
        Status.QUEUED,
        Status.SENDING,
        settings.SMS_RETRY_MAX_ATTEMPTS,
        OutboundMessage.REPLY,
        OutboundMessage.REPLY,
        OutboundMessage.Channel.API,
        Status.QUEUED,
        Status.SENDING,
    ]
    # RETURNING gives every concrete column in order: the row is made into the message as
    # the ORM would, without raw()'s matching of columns to fields on every call.
    with connection.cursor() as cursor:
        cursor.execute(_sql("take"), params)
        row = cursor.fetchone()
    return instance_from_row(OutboundMessage, row) if row else None


def _now_for_sql():
    """The time now, as Django writes a DateTimeField on this database."""
    return OutboundMessage._meta.get_field("updated_at").get_db_prep_save(
        timezone.now(), connection
    )


def _sql(name: str) -> str:
    return _statements(connection.vendor)[name]


def _read_for_sending(message_id: int, *, lock: bool) -> OutboundMessage | None:
    """Return message ``message_id`` with ``opted_out`` (its number said STOP) and
    ``earlier_reply_pending`` (see ``earlier_reply_pending``), locked until the commit when
    ``lock``; None when there is no such message."""
    sql = _sql("read_locked" if lock else "read")
    params = [
        OutboundMessage.REPLY,
        OutboundMessage.Channel.API,
        Status.QUEUED,
        Status.SENDING,
        message_id,
    ]
    return next(iter(OutboundMessage.objects.raw(sql, params)), None)


def reply_release_next(message: OutboundMessage) -> int | None:
    """Enqueue the reply to the same number that waits behind ``message``; return its id."""
    if message.purpose != OutboundMessage.REPLY or not message.recipient_hash:
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            _sql("next_reply"),
            [
                OutboundMessage.REPLY,
                OutboundMessage.Channel.API,
                message.recipient_hash,
                Status.QUEUED,
                message.pk,
            ],
        )
        row = cursor.fetchone()
    next_id = row[0] if row else None
    if next_id is not None:
        # By name: the deliver task imports this module. On commit: the next one must see
        # this one's final state, or it would wait for it again. Should the broker refuse
        # it, outbound_requeue_stale enqueues it.
        deliver = current_app.tasks["assistant.tasks.deliver"]
        transaction.on_commit(lambda: deliver.enqueue([next_id], queue=REPLIES_QUEUE), robust=True)
    return next_id


def _deliver(message: OutboundMessage) -> str:
    message_id = message.pk
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

    # Usually one statement marks it sending; a closer look says why when it cannot.
    message = _take(message_id) or _take_after_a_closer_look(message_id)
    if isinstance(message, str):
        return message
    to, body = message.recipient(), message.body()

    # The call may take a connect and a read timeout: the lease covers both.
    lease_hold(message_id, run_lease_seconds())
    status_callback = settings.PUBLIC_BASE_URL + reverse("sms_status")
    try:
        sent = backend.send(
            to=to, body=body, status_callback=status_callback, content_sid=message.content_sid
        )
    except SmsError as exc:
        countdown = _record_error(message_id, exc)
        if countdown is None:
            return "failed"
        raise DeliveryRetry(countdown, str(exc)) from None
    # Twilio's answer names the message it created: it is ours whatever a look-up took.
    if not _record_sid(message_id, sent.sid):
        _record_sid_held_elsewhere(message_id, sent.sid)
    return "sent"


@transaction.atomic
def _take_after_a_closer_look(message_id: int) -> OutboundMessage | str:
    """Mark message ``message_id`` sending under its row lock, or return why it is not sent.

    What ``_take`` could not do, step by step: already sent, waiting for an earlier reply,
    an attempt in flight (DeliveryDeferred), opted out or out of attempts (failed).
    """
    # The opt-out check rides on the locking read: one query fewer per message.
    message = _read_for_sending(message_id, lock=True)
    if message is None:
        raise OutboundMessage.DoesNotExist(f"Message {message_id} does not exist.")
    if message.twilio_sid or message.status not in (Status.QUEUED, Status.SENDING):
        return "already-sent"
    if message.earlier_reply_pending and message.purpose == OutboundMessage.REPLY:
        return "waiting-for-earlier"  # see outbound_deliver
    if message.outcome_unknown:
        # Another run started an attempt since we looked.
        raise DeliveryDeferred(_lease().total_seconds(), "another attempt is in flight")
    if message.opted_out:
        _fail(message, code=None, reason="The number opted out before it was sent.")
        return "opted-out"
    if _attempts_used(message) >= settings.SMS_RETRY_MAX_ATTEMPTS:
        # The last allowed attempt may have reached Twilio; the look-up said it did not.
        _fail(
            message,
            code=message.last_error_code,
            reason=(
                f"Gave up after {message.attempts} attempts (the last one did not reach "
                f"Twilio). Last error: {message.last_error_message}"
            ),
        )
        return "failed"
    message.attempts += 1
    message.last_attempt_at = timezone.now()
    message.outcome_unknown = True
    _advance(message, Status.SENDING)  # never final: nothing else changes
    save_fields(message, ["attempts", "last_attempt_at", "outcome_unknown", "status", "updated_at"])
    return message


def _attempts_used(message: OutboundMessage) -> int:
    """Return the attempts that count against SMS_RETRY_MAX_ATTEMPTS (429s do not)."""
    return message.attempts - message.rate_limits


class _SidsOfOtherMessages:
    """The sids already saved on another of our messages; a look-up never takes one of them.

    A container the backend asks about each candidate it finds: one indexed query each, and
    only for the few messages that match the number, the text and the time.
    """

    def __init__(self, message_id: int):
        self.message_id = message_id
        self.taken: set[str] = set()

    def __contains__(self, sid: object) -> bool:
        if sid in self.taken:
            return True
        return OutboundMessage.objects.filter(twilio_sid=sid).exclude(pk=self.message_id).exists()


def _settle_unknown_attempt(message: OutboundMessage, backend) -> str | None:
    """Find out whether the last attempt reached the provider; return an outcome if it did.

    Found: its sid is saved and the message is sent. Not found: the attempt is known not to
    have reached Twilio and None is returned (the caller may send again). Look-ups are
    counted; after 2 × SMS_RETRY_MAX_ATTEMPTS the message fails rather than risk a second
    copy, so it never stays ``sending``.
    """
    started = message.last_attempt_at or message.updated_at
    in_flight_until = started + _lease()
    now = timezone.now()
    if now < in_flight_until:
        raise DeliveryDeferred(
            (in_flight_until - now).total_seconds(), "the last attempt may still be in flight"
        )
    if message.lookups >= 2 * settings.SMS_RETRY_MAX_ATTEMPTS:
        return _fail_unsettled(message.pk, started=started)
    OutboundMessage.objects.filter(pk=message.pk).update(lookups=F("lookups") + 1)
    lease_hold(message.pk, run_lease_seconds())
    taken = _SidsOfOtherMessages(message.pk)
    for _ in range(3):
        try:
            found = backend.find_sent(
                to=message.recipient(),
                body=message.body(),
                since=started,
                # Twilio creates it while our request is open: not after the attempt's lease.
                until=in_flight_until,
                exclude_sids=taken,
            )
        except SmsError as exc:
            raise DeliveryRetry(_backoff(message.lookups + 1), str(exc)) from None
        if not found:
            break
        if _record_sid(message.pk, found.sid):
            logger.info(
                "Message %s was accepted by the last attempt; not sending again.", message.pk
            )
            return "found"
        # Another message saved that sid between the look-up and now: not ours.
        taken.taken.add(found.sid)
    else:
        raise DeliveryRetry(_backoff(message.lookups + 1), "the look-up kept finding taken sids")
    with transaction.atomic():
        locked = OutboundMessage.objects.select_for_update().get(pk=message.pk)
        if locked.last_attempt_at == message.last_attempt_at and not locked.twilio_sid:
            locked.outcome_unknown = False
            locked.save(update_fields=["outcome_unknown", "updated_at"])
    return None


def _pending_status(sid: str) -> tuple[str, int | None] | None:
    """Return the status Twilio reported for ``sid`` before its sid was saved, if any."""
    try:
        return cache.get(_PENDING_STATUS_KEY.format(sid=sid))
    except (RedisError, OSError):
        # Redis is down: no early status can be read; Twilio's next callback still applies.
        return None


@transaction.atomic
def _fail_unsettled(message_id: int, *, started) -> str:
    message = OutboundMessage.objects.select_for_update().get(pk=message_id)
    if message.twilio_sid or message.is_final:
        return "already-sent"
    _fail(
        message,
        code=message.last_error_code,
        reason=(
            f"Could not find out at Twilio whether the attempt of {started:%Y-%m-%d %H:%M:%S} "
            f"reached it ({message.lookups} look-ups); not sent again, so that it is never "
            f"sent twice. Last error: {message.last_error_message}"
        ),
    )
    return "failed"


def _record_sid(message_id: int, sid: str) -> bool:
    """Save the provider's sid; the status moves to sent (forward only).

    Return False, and change nothing, when another message already holds that sid.
    """
    try:
        # In one statement. The CASE keeps the status forward-only (a final status is never
        # touched). A savepoint keeps a caller's transaction usable if the sid is taken;
        # outside one, the statement is its own transaction (no BEGIN and COMMIT round trips).
        with (
            transaction.atomic() if connection.in_atomic_block else nullcontext(),
            connection.cursor() as cursor,
        ):
            cursor.execute(
                _sql("record_sid"),
                [sid, Status.QUEUED, Status.SENDING, Status.SENT, _now_for_sql(), message_id],
            )
        logger.info("Message %s handed to the provider as %s.", message_id, sid)
        # Then a status Twilio reported before the sid was saved, kept until now (read
        # after the save: see outbound_status_update). Usually there is none.
        if _pending_status(sid) is None:
            return True
        _record_sid_with_pending_status(message_id, sid)
    except IntegrityError:
        logger.warning("Message %s: sid %s already belongs to another message.", message_id, sid)
        return False
    return True


@transaction.atomic
def _record_sid_with_pending_status(message_id: int, sid: str) -> None:
    message = OutboundMessage.objects.select_for_update().get(pk=message_id)
    message.twilio_sid = sid
    message.outcome_unknown = False
    _advance(message, Status.SENT)
    pending = _pending_status(sid)
    if pending:
        status, error_code = pending
        if error_code:
            message.last_error_code = error_code
        _advance(message, status)
        try:
            cache.delete(_PENDING_STATUS_KEY.format(sid=sid))
        except (RedisError, OSError):
            pass  # it expires; applying it again changes nothing (statuses only move forward)
    message.save()
    logger.info("Message %s handed to the provider as %s.", message_id, sid)


def _record_sid_held_elsewhere(message_id: int, sid: str) -> None:
    """Record that Twilio took message ``message_id`` as ``sid``, which another message holds.

    Only a look-up can have given another message that sid (it took this one's Twilio message
    for its own: the same text to the same number). This one was accepted all the same: it is
    marked sent, without a sid, and says why; ``outbound_close_sent`` later closes it.
    """
    holder = OutboundMessage.objects.filter(twilio_sid=sid).values_list("pk", flat=True).first()
    OutboundMessage.objects.filter(pk=message_id).update(
        outcome_unknown=False,
        status=Case(
            When(status__in=[Status.QUEUED, Status.SENDING], then=Value(Status.SENT)),
            default=F("status"),
        ),
        last_error_message=(
            f"Twilio accepted it as {sid}, which message #{holder} had already taken in a "
            "look-up (the same text to the same number)."
        )[:255],
        updated_at=timezone.now(),
    )
    logger.warning("Message %s sent as %s, a sid message %s holds.", message_id, sid, holder)


@transaction.atomic
def _record_error(message_id: int, exc: SmsError) -> float | None:
    """Record a failed attempt; return the countdown before a retry, or None if it failed.

    A rate limit (429) is a wait, not a failed attempt: Twilio did not take the message, and
    a burst of 429s must not fail a resident's first reply and let the next one through. Rate
    limits have a budget of their own (SMS_RATE_LIMIT_MAX_RETRIES). The last allowed attempt,
    when its answer was lost, is looked up before the message is given up.
    """
    message = OutboundMessage.objects.select_for_update().get(pk=message_id)
    message.last_error_code = exc.code
    message.last_error_message = str(exc)[:255]
    message.outcome_unknown = exc.maybe_accepted
    if exc.permanent:
        if exc.code == OPTED_OUT_CODE:
            _record_carrier_opt_out(message)
        _fail(message, code=exc.code, reason=str(exc))
        return None
    if exc.rate_limited:
        message.rate_limits += 1
        if message.rate_limits > settings.SMS_RATE_LIMIT_MAX_RETRIES:
            _fail(
                message,
                code=exc.code,
                reason=f"Twilio refused it as too fast {message.rate_limits} times. {exc}",
            )
            return None
        countdown = _backoff(message.rate_limits)
    elif _attempts_used(message) >= settings.SMS_RETRY_MAX_ATTEMPTS:
        if not exc.maybe_accepted:
            _fail(
                message,
                code=exc.code,
                reason=f"Gave up after {message.attempts} attempts. Last error: {exc}",
            )
            return None
        # Twilio may have taken it: look it up once the attempt cannot be in flight any more;
        # sent if found, failed if not (see _deliver).
        countdown = _lease().total_seconds()
    else:
        countdown = _backoff(_attempts_used(message))
    message.save()
    logger.warning(
        "Message %s attempt %d failed (code %s), will retry: %s",
        message_id,
        message.attempts,
        exc.code,
        exc,
    )
    return countdown


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
    waiting = OutboundMessage(
        pk=message.pk, purpose=message.purpose, recipient_hash=message.recipient_hash
    )
    _fail(message, code=code, reason=reason)
    reply_release_next(waiting)
    return True


def _locked_by_sid(sid: str) -> OutboundMessage | None:
    return OutboundMessage.objects.select_for_update().filter(twilio_sid=sid).first()


def outbound_status_update(*, sid: str, status: str, error_code: int | None = None) -> bool:
    """Apply Twilio's status callback for ``sid``; return whether the message changed.

    The status only moves forward. An unknown status changes nothing. A sid we do not know
    yet may belong to a message whose sid is being saved right now (Twilio calls back as soon
    as it has taken a message): its status is kept, in Redis or, while Redis is down, in
    PostgreSQL (``EarlyStatus``), and applied when the sid is saved. Each side writes first
    and then looks for the other: the worker saves the sid, then reads a status kept in
    Redis; this keeps the status, then looks for the sid once more. Whatever the order, one
    of them applies it (twice is harmless). One kept in PostgreSQL is applied by the
    stranded-work task within seconds (``outbound_early_apply``).
    """
    target = CALLBACK_STATUSES.get(status)
    if target is None:
        logger.warning("Status callback with an unknown status %r; ignored.", status[:32])
        return False
    changed = _apply_status(sid, target, error_code)
    if changed is not None:
        return changed
    _keep_early_status(sid, target, error_code)
    changed = _apply_status(sid, target, error_code)
    if changed is None:
        logger.info("Status callback for a sid we do not know (yet); kept for 15 minutes.")
        return False
    return changed


def _keep_early_status(sid: str, target: str, error_code: int | None) -> None:
    try:
        cache.set(_PENDING_STATUS_KEY.format(sid=sid), (target, error_code), timeout=15 * 60)
    except (RedisError, OSError):
        EarlyStatus.objects.create(sid=sid, status=target, error_code=error_code)


@transaction.atomic
def _apply_status(sid: str, target: str, error_code: int | None) -> bool | None:
    """Apply one status to the message holding ``sid``; None when no message holds it."""
    message = _locked_by_sid(sid)
    if message is None:
        return None
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


def outbound_early_apply(*, limit: int = 5000) -> int:
    """Apply the statuses kept in PostgreSQL (``EarlyStatus``) whose sid is saved now, and
    delete them; delete those older than EARLY_STATUS_MINUTES (the sid is not ours).
    Return how many were applied. The stranded-work task runs it every few seconds."""
    applied = 0
    expired = timezone.now() - timedelta(minutes=EARLY_STATUS_MINUTES)
    for early in EarlyStatus.objects.order_by("pk")[:limit]:
        if _apply_status(early.sid, early.status, early.error_code) is not None:
            applied += 1
        elif early.received_at >= expired:
            continue
        EarlyStatus.objects.filter(pk=early.pk).delete()
    return applied
