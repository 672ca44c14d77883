"""Writes for an incoming SMS: dedupe, abuse limits, conversation state, opt-outs.

The webhook records a message (``inbound_accept``) and a worker answers it
(``inbound_answer_pending``): per resident, one at a time, oldest first.
"""

import hashlib
import hmac
import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache

from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache
from django.db import IntegrityError, connection, transaction
from django.db.models.functions import Substr
from django.utils import timezone
from redis.exceptions import RedisError

from assistant.delivery.models import OptOut
from assistant.delivery.services import replies_dispatch
from assistant.privacy import decrypt, encrypt, is_whatsapp, phone_hash
from assistant.sms.compose import SMS, WHATSAPP
from assistant.sms.conversation import Effect, State, Turn, converse, may_repeat
from assistant.sms.language import fold, keyword, opt_out_language
from assistant.sms.lookup import DbLookup
from assistant.sms.models import Conversation, InboundMessage, Subscription
from assistant.sms.subscriptions import (
    subscribed_place_ids,
    subscription_create,
    subscriptions_end,
)
from assistant.sql import insert_values, instance_from_row, save_fields_together
from assistant.trust.models import MistakeReport
from assistant.trust.services import forum_reminder_opt_in, mistake_report_create

logger = logging.getLogger(__name__)

# Keywords that always get through the abuse limits: a resident must be able to leave.
_ALWAYS_HEARD = {"stop", "start", "delete"}


@dataclass
class InboundResult:
    """What became of one incoming message (``duplicate`` when its sid was seen before)."""

    outcome: str
    replies: list[str] = field(default_factory=list)
    duplicate: bool = False
    # Replies the webhook must answer in its TwiML because the broker is down.
    twiml_replies: list[str] = field(default_factory=list)


# Where the abuse limits are counted when Redis cannot be reached: in this process, with the
# same hourly cap and loop rule. They fail open to this, never closed (a resident is answered)
# and never raise; each web process and worker counts on its own, so during an outage a
# number may get the cap's worth of replies from each of them.
_LIMITS_WITHOUT_REDIS = LocMemCache(
    "sms-limits-without-redis", {"TIMEOUT": 60 * 60, "OPTIONS": {"MAX_ENTRIES": 10_000}}
)


def _limits_call(operation):
    """Return ``operation(cache)`` on the shared cache, or on this process's own when down."""
    try:
        return operation(cache)
    except (RedisError, OSError):
        # config/cache.py logs the outage once; the limits go on in this process.
        return operation(_LIMITS_WITHOUT_REDIS)


def _hour_key(hashed: str) -> str:
    return f"sms:replies:{hashed}:{timezone.now():%Y%m%d%H}"


def _loop_key(hashed: str) -> str:
    return f"sms:loop:{hashed}"


def _fingerprint(text: str) -> str:
    # Keyed, like the number: the cache must not hold a hash anyone could match to a text.
    secret = settings.PHONE_HASH_KEY.encode()
    return hmac.new(secret, fold(text).encode(), hashlib.sha256).hexdigest()[:32]


@dataclass
class _Limits:
    """A resident's abuse limits for one text: read in one call to the cache before the
    turn, written in one after it (``_limits_save``), where they took five.

    Only the worker holding the resident's lock answers them, so the count read here is
    still the count when it is written.
    """

    hashed: str
    hour_key: str
    replies_this_hour: int
    # (fingerprint, repeats, last seen as a timestamp) to write, or None to leave it.
    loop: tuple[str, int, float] | None = None


def _limits_read(hashed: str, text: str) -> _Limits:
    """Read the resident's limits and count ``text`` toward the loop guard."""
    loop_key, hour_key = _loop_key(hashed), _hour_key(hashed)
    counts = _limits_call(lambda store: store.get_many([loop_key, hour_key]))
    limits = _Limits(hashed, hour_key, counts.get(hour_key, 0))
    if not may_repeat(text):
        # The window is kept in the value (the key's timeout is the hour's), so both keys
        # are written by one call.
        fingerprint, now = _fingerprint(text), time.time()
        last = counts.get(loop_key)
        recent = (
            isinstance(last, tuple)
            and len(last) == 3
            and last[0] == fingerprint
            and now - last[2] < settings.SMS_LOOP_WINDOW_SECONDS
        )
        limits.loop = (fingerprint, last[1] + 1 if recent else 1, now)
    return limits


def _is_loop(limits: _Limits) -> bool:
    """Return True when the same text has arrived SMS_LOOP_REPEATS times in the window.

    A resident resends a ZIP code or a menu number when a reply is slow; those are never a
    loop (the hourly limit still holds). Another bot's echo is a sentence.
    """
    return limits.loop is not None and limits.loop[1] >= settings.SMS_LOOP_REPEATS


def _limits_save(limits: _Limits | None, hashed: str, sent: int) -> None:
    """Write the loop guard and add ``sent`` replies to the hour's count, in one call."""
    if limits is None:  # a keyword heard whatever the limits: only its replies count
        if not sent:
            return
        hour_key = _hour_key(hashed)
        limits = _Limits(hashed, hour_key, _limits_call(lambda store: store.get(hour_key, 0)))
    values = {}
    if limits.loop is not None:
        values[_loop_key(limits.hashed)] = limits.loop
    if sent:
        values[limits.hour_key] = limits.replies_this_hour + sent
    if values:
        timeout = max(60 * 60, settings.SMS_LOOP_WINDOW_SECONDS)
        _limits_call(lambda store: store.set_many(values, timeout))


def _state_for(conversation: Conversation, number: str) -> State:
    """The turn's state; ``conversation`` comes from ``_conversation_locked``."""
    return State(
        channel=WHATSAPP if is_whatsapp(number) else SMS,
        subscribed_place_ids=conversation.subscribed_place_ids,
        language=conversation.language,
        place_id=conversation.place_id,
        menu=conversation.menu,
        choices=tuple(conversation.choices or ()),
        opted_out=conversation.opted_out,
    )


def inbound_accept(*, sid: str, from_number: str, body: str) -> InboundMessage | None:
    """Record one incoming SMS to be answered; return None when its sid was answered before.

    All the webhook writes: one row, the number and the text encrypted (a worker needs them
    to answer), the keyed hash to find the resident's messages in order. The row is wiped
    once answered (``inbound_answer_pending``). A sid recorded but still pending (the webhook
    that recorded it failed before an answer committed, or its task was lost) returns its
    row, so Twilio's retry or fallback request gets it answered instead of taken for a
    duplicate; answering is idempotent, so it is never answered twice.
    """
    inbound = InboundMessage(
        sid=sid,
        phone_hash=phone_hash(from_number),
        outcome=InboundMessage.Outcome.PENDING,
        number_encrypted=encrypt(from_number),
        body_encrypted=encrypt(body),
    )
    if connection.vendor == "postgresql":
        inbound.pk = _insert_unless_seen(inbound)
        if inbound.pk is not None:
            inbound._state.adding = False
            return inbound
    else:
        try:
            with transaction.atomic():
                inbound.save(force_insert=True)
            return inbound
        except IntegrityError:
            pass
    return InboundMessage.objects.filter(sid=sid, outcome=InboundMessage.Outcome.PENDING).first()


def _insert_unless_seen(inbound: InboundMessage) -> int | None:
    """Insert ``inbound`` in one round trip to PostgreSQL; return its id, None if its sid is in.

    One statement string (psycopg binds the values on this side, so it may hold two): the
    ``SET LOCAL`` and the ``INSERT`` run in one implicit transaction. Not waiting for the WAL
    flush: on this 2-core machine it was 7 ms of the webhook's time. A crash of PostgreSQL
    itself (not a stop) may forget the last fraction of a second of texts, as a crashed Redis
    forgets its tasks. Each round trip the webhook saves is throughput under a burst: it
    waits on PostgreSQL with nothing else to do. ``ON CONFLICT DO NOTHING`` replaces the
    savepoint a failed insert of a known sid needed.
    """
    fields, values = insert_values(inbound)
    sql = _insert_unless_seen_sql(tuple(field.column for field in fields), connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        cursor.nextset()  # past SET's result, to the INSERT's
        row = cursor.fetchone()
    return row[0] if row else None


@lru_cache
def _insert_unless_seen_sql(columns: tuple[str, ...], vendor: str) -> str:
    meta, quote = InboundMessage._meta, connection.ops.quote_name
    # Built from the model's own table and column names; the values are parameters.
    return (
        "SET LOCAL synchronous_commit TO OFF; "  # noqa: S608
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(column) for column in columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))}) "
        f"ON CONFLICT ({quote(meta.get_field('sid').column)}) DO NOTHING "
        f"RETURNING {quote(meta.pk.column)}"
    )


def inbound_answer_pending(
    *, hashed: str, until_id: int | None = None, in_webhook: bool = False
) -> InboundResult:
    """Answer a resident's pending messages one at a time, oldest first; return what happened.

    Each message is answered in its own transaction holding the resident's ``Conversation``
    row lock, so two workers never answer one resident at once, and each takes the oldest
    pending message, so the texts are answered in the order the webhook recorded them,
    whichever task runs first. With ``until_id`` it stops once that message is answered
    (the webhook answering inline); otherwise it runs until none is left. The replies the
    webhook must put in its TwiML (broker down, opt-out confirmation) are returned in order;
    only ``in_webhook`` answers in TwiML when the broker is down (a worker has no TwiML:
    its replies wait in PostgreSQL for the broker).
    """
    result = InboundResult(outcome="none")
    while True:
        inbound, turn, twiml, more = _answer_oldest(hashed, in_webhook)
        if inbound is None:
            return result
        result.twiml_replies.extend(twiml)
        if inbound.pk == until_id or until_id is None:
            result.outcome = inbound.outcome
            result.replies = turn.replies if turn else []
        # A text recorded after the look for "more" has a task of its own.
        if not more or (until_id is not None and inbound.pk >= until_id):
            return result


@transaction.atomic
def _answer_oldest(
    hashed: str, in_webhook: bool
) -> tuple[InboundMessage | None, Turn | None, list[str], bool]:
    conversation = _conversation_locked(hashed)
    with connection.cursor() as cursor:
        cursor.execute(_oldest_pending_sql(connection.vendor), [hashed])
        oldest_two = [instance_from_row(InboundMessage, row) for row in cursor.fetchall()]
    if not oldest_two:
        return None, None, [], False
    inbound, more = oldest_two[0], len(oldest_two) > 1
    number, text = decrypt(inbound.number_encrypted), decrypt(inbound.body_encrypted)
    inbound.number_encrypted = inbound.body_encrypted = ""
    inbound.outcome = InboundMessage.Outcome.ANSWERED
    turn, limits = _converse_within_limits(inbound, conversation, hashed, number, text)
    twiml: list[str] = []
    writes = []  # the conversation's new state and the text's outcome, in one statement
    if turn is not None:
        if _persist(hashed, number, conversation, turn):
            writes.append((conversation, _CONVERSATION_FIELDS))
        if turn.effect == Effect.ERASE:
            inbound.phone_hash = ""
        if not turn.replies and turn.state.opted_out:
            inbound.outcome = InboundMessage.Outcome.OPTED_OUT
        if turn.replies:
            twiml = replies_dispatch(
                to=number,
                bodies=turn.replies,
                language=turn.language,
                # The opt-out confirmation goes in the webhook's answer: the queue would find
                # the number opted out and never send it.
                in_twiml=turn.effect == Effect.OPT_OUT,
                twiml_fallback=in_webhook,
            )
            inbound.reply_count = len(turn.replies)
        _limits_save(limits, hashed, len(turn.replies))
    writes.append(
        (inbound, ["outcome", "phone_hash", "reply_count", "number_encrypted", "body_encrypted"])
    )
    save_fields_together(writes)
    if turn is None:
        logger.info("SMS %s dropped (%s)", inbound.sid, inbound.outcome)
    return inbound, turn, twiml, more


@lru_cache
def _oldest_pending_sql(vendor: str) -> str:
    """A resident's two oldest pending texts (the partial index inbound_pending_per_number)."""
    meta, quote = InboundMessage._meta, connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in meta.concrete_fields)
    # Built from the model's own names and a constant of the code; the hash is a parameter.
    return (
        f"SELECT {columns} FROM {quote(meta.db_table)} "  # noqa: S608
        f"WHERE {quote(meta.get_field('phone_hash').column)} = %s "
        f"AND {quote(meta.get_field('outcome').column)} = '{InboundMessage.Outcome.PENDING}' "
        f"ORDER BY {quote(meta.pk.column)} LIMIT 2"
    )


def _conversation_locked(hashed: str) -> Conversation:
    """Return the resident's conversation, created if need be, locked until the commit.

    Two messages from one number can arrive at once: the row is made sure to exist, then
    locked, so the second waits for the first's state instead of failing on the hash. It
    comes with ``opted_out`` and ``subscribed_place_ids``, which the turn needs.
    """
    if connection.vendor == "postgresql":
        return _conversation_upserted(hashed)
    conversation = Conversation.objects.select_for_update().filter(phone_hash=hashed).first()
    if conversation is None:
        Conversation.objects.bulk_create([Conversation(phone_hash=hashed)], ignore_conflicts=True)
        conversation = Conversation.objects.select_for_update().get(phone_hash=hashed)
    conversation.opted_out = OptOut.objects.filter(phone_hash=hashed).exists()
    conversation.subscribed_place_ids = subscribed_place_ids(hashed=hashed)
    return conversation


def _conversation_upserted(hashed: str) -> Conversation:
    """``_conversation_locked`` on PostgreSQL, in one statement instead of five.

    ``INSERT ... ON CONFLICT DO UPDATE`` creates the row or locks the one there (an update
    of the row, which waits for and blocks a ``SELECT ... FOR UPDATE`` of it as well), and
    its ``RETURNING`` reads the opt-out and the subscriptions in the same round trip.
    """
    meta = Conversation._meta
    fields, values = insert_values(Conversation(phone_hash=hashed))
    quote = connection.ops.quote_name
    hash_column = quote(meta.get_field("phone_hash").column)
    subscription, optout = Subscription._meta, OptOut._meta
    # Built from the models' own table and column names; the values are parameters.
    sql = (
        f"INSERT INTO {quote(meta.db_table)} AS conversation "  # noqa: S608
        f"({', '.join(quote(field.column) for field in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
        f"ON CONFLICT ({hash_column}) DO UPDATE SET {hash_column} = EXCLUDED.{hash_column} "
        f"RETURNING {', '.join('conversation.' + quote(f.column) for f in meta.concrete_fields)}, "
        f"EXISTS (SELECT 1 FROM {quote(optout.db_table)} optout "
        f"WHERE optout.{quote(optout.get_field('phone_hash').column)} "
        f"= conversation.{hash_column}) AS opted_out, "
        f"ARRAY(SELECT subscription.{quote(subscription.get_field('place').column)} "
        f"FROM {quote(subscription.db_table)} subscription "
        f"WHERE subscription.{quote(subscription.get_field('phone_hash').column)} "
        f"= conversation.{hash_column} ORDER BY subscription.{quote(subscription.pk.column)}) "
        "AS subscribed"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    count = len(meta.concrete_fields)
    conversation = instance_from_row(Conversation, row[:count])
    conversation.opted_out = row[count]
    conversation.subscribed_place_ids = tuple(row[count + 1])
    return conversation


def _converse_within_limits(
    inbound: InboundMessage, conversation: Conversation, hashed: str, number: str, text: str
) -> tuple[Turn | None, _Limits | None]:
    """Return the conversation's turn, or None when the abuse limits drop the message, and
    the limits to save (``_limits_save``; None for a text they do not apply to)."""
    always_heard = keyword(text) in _ALWAYS_HEARD or opt_out_language(text) is not None
    limits = None
    if not always_heard and not conversation.opted_out:
        limits = _limits_read(hashed, text)
        dropped = None
        if _is_loop(limits):
            dropped = InboundMessage.Outcome.LOOP
        elif limits.replies_this_hour >= settings.SMS_REPLIES_PER_HOUR:
            dropped = InboundMessage.Outcome.RATE_LIMITED
        if dropped:
            # Counted, without the number: the drop itself says nothing about anyone.
            inbound.outcome = dropped
            inbound.phone_hash = ""
            _limits_save(limits, hashed, 0)
            return None, limits
    state = _state_for(conversation, number)
    return converse(state=state, text=text, lookup=DbLookup()), limits


_CONVERSATION_FIELDS = ("language", "place", "menu", "choices", "updated_at")


def _persist(hashed: str, number: str, conversation: Conversation, turn: Turn) -> bool:
    """Write what the turn changes besides the conversation's row; set the conversation's new
    state on ``conversation``. Return True when that row is to be saved (_CONVERSATION_FIELDS),
    False when the turn erased it."""
    if turn.effect == Effect.OPT_OUT:
        # The number is kept encrypted only so the opt-out survives a new PHONE_HASH_KEY.
        OptOut.objects.get_or_create(
            phone_hash=hashed,
            defaults={"source": OptOut.Source.KEYWORD, "number_encrypted": encrypt(number)},
        )
        subscriptions_end(hashed=hashed)
    elif turn.effect == Effect.OPT_IN:
        OptOut.objects.filter(phone_hash=hashed).delete()
    elif turn.effect == Effect.SUBSCRIBE and turn.state.place_id:
        subscription_create(number=number, place_id=turn.state.place_id, language=turn.language)
    elif turn.effect == Effect.REMIND and turn.state.place_id:
        subscription = subscription_create(
            number=number, place_id=turn.state.place_id, language=turn.language
        )
        forum_reminder_opt_in(subscription_id=subscription.pk)
    elif turn.effect == Effect.REPORT and turn.state.place_id:
        # The words go to the organizers' inbox; the number stays out of it.
        mistake_report_create(
            place_id=turn.state.place_id,
            text=turn.report_text,
            language=turn.language,
            channel=MistakeReport.Channel.SMS,
        )
    if turn.effect == Effect.ERASE:
        subscriptions_end(hashed=hashed)
        Conversation.objects.filter(phone_hash=hashed).delete()
        # The resident's later texts keep their hash: they are still to be answered.
        InboundMessage.objects.filter(phone_hash=hashed).exclude(
            outcome=InboundMessage.Outcome.PENDING
        ).update(phone_hash="")
        return False
    state = turn.state
    values = {
        "language": state.language,
        "place_id": state.place_id,
        "menu": state.menu,
        "choices": list(state.choices),
    }
    for name, value in values.items():
        setattr(conversation, name, value)
    return True


def inbound_message_answer(*, inbound: InboundMessage) -> InboundResult:
    """Answer ``inbound`` now, in the webhook, with any older text of its resident before it.

    For an opt-out (its confirmation goes in the webhook's TwiML) and when the broker is
    down (every reply goes in the TwiML). Same order and locks as the worker.
    """
    return inbound_answer_pending(hashed=inbound.phone_hash, until_id=inbound.pk, in_webhook=True)


def inbound_message_handle(*, sid: str, from_number: str, body: str) -> InboundResult:
    """Record one incoming SMS and answer it at once; a duplicate sid is not answered again."""
    inbound = inbound_accept(sid=sid, from_number=from_number, body=body)
    if inbound is None:
        return InboundResult(outcome="duplicate", duplicate=True)
    return inbound_message_answer(inbound=inbound)


def inbound_pending_residents(*, shard: str, limit: int) -> list[str]:
    """Return the keyed hashes of up to ``limit`` residents with a pending text in ``shard``
    (the first hex digit of the hash), the one whose text came first first."""
    hashes = (
        InboundMessage.objects.filter(
            outcome=InboundMessage.Outcome.PENDING, phone_hash__startswith=shard
        )
        .order_by("pk")
        .values_list("phone_hash", flat=True)
    )
    residents = dict.fromkeys(hashes[: limit * 4])
    return list(residents)[:limit]


def inbound_requeue_stale(*, older_than: timedelta | None = None) -> list[str]:
    """Return the shards (see sms.wake) holding a text left unanswered for ``older_than``.

    A drain lost with its worker (killed, or Redis lost its data), or a webhook killed
    between recording a text and waking a worker, leaves texts pending; a drain of their
    shard is asked for again (answering is idempotent).
    """
    if older_than is None:
        older_than = timedelta(seconds=settings.INBOUND_REQUEUE_AFTER_SECONDS)
    cutoff = timezone.now() - older_than
    shards = (
        InboundMessage.objects.filter(
            outcome=InboundMessage.Outcome.PENDING, received_at__lt=cutoff
        )
        .annotate(shard=Substr("phone_hash", 1, 1))
        .values_list("shard", flat=True)
        .distinct()
    )
    return sorted(shards)
