"""Writes for an incoming SMS: dedupe, abuse limits, conversation state, opt-outs."""

import hashlib
import hmac
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from assistant.delivery.models import OptOut
from assistant.delivery.services import replies_dispatch
from assistant.privacy import encrypt, phone_hash
from assistant.sms.conversation import Effect, State, Turn, converse, may_repeat
from assistant.sms.language import fold, keyword, opt_out_language
from assistant.sms.lookup import DbLookup
from assistant.sms.models import Conversation, InboundMessage
from assistant.sms.subscriptions import (
    subscribed_place_ids,
    subscription_create,
    subscriptions_end,
)
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


def _hour_key(hashed: str) -> str:
    return f"sms:replies:{hashed}:{timezone.now():%Y%m%d%H}"


def _loop_key(hashed: str) -> str:
    return f"sms:loop:{hashed}"


def _fingerprint(text: str) -> str:
    # Keyed, like the number: the cache must not hold a hash anyone could match to a text.
    secret = settings.PHONE_HASH_KEY.encode()
    return hmac.new(secret, fold(text).encode(), hashlib.sha256).hexdigest()[:32]


def _is_loop(hashed: str, text: str) -> bool:
    """Return True when the same text has arrived SMS_LOOP_REPEATS times in the window.

    A resident resends a ZIP code or a menu number when a reply is slow; those are never a
    loop (the hourly limit still holds). Another bot's echo is a sentence.
    """
    if may_repeat(text):
        return False
    key = _loop_key(hashed)
    fingerprint = _fingerprint(text)
    last = cache.get(key)
    count = last[1] + 1 if last and last[0] == fingerprint else 1
    cache.set(key, (fingerprint, count), settings.SMS_LOOP_WINDOW_SECONDS)
    return count >= settings.SMS_LOOP_REPEATS


def _replies_this_hour(hashed: str) -> int:
    return cache.get(_hour_key(hashed), 0)


def _count_replies(hashed: str, sent: int) -> None:
    key = _hour_key(hashed)
    cache.add(key, 0, 60 * 60)
    cache.incr(key, sent)


def _state_for(conversation: Conversation, opted_out: bool) -> State:
    hashed = conversation.phone_hash
    return State(
        subscribed_place_ids=subscribed_place_ids(hashed=hashed),
        language=conversation.language,
        place_id=conversation.place_id,
        menu=conversation.menu,
        choices=tuple(conversation.choices or ()),
        opted_out=opted_out,
    )


@transaction.atomic
def _receive(
    *, sid: str, hashed: str, number: str, text: str
) -> tuple[InboundMessage | None, Turn | None]:
    try:
        with transaction.atomic():
            inbound = InboundMessage.objects.create(sid=sid, phone_hash=hashed)
    except IntegrityError:
        return None, None
    # Two messages from one number can arrive at once: make sure the row exists, then lock
    # it, so the second waits for the first's state instead of failing on the unique hash.
    Conversation.objects.bulk_create([Conversation(phone_hash=hashed)], ignore_conflicts=True)
    conversation = Conversation.objects.select_for_update().get(phone_hash=hashed)
    opted_out = OptOut.objects.filter(phone_hash=hashed).exists()
    always_heard = keyword(text) in _ALWAYS_HEARD or opt_out_language(text) is not None
    if not always_heard and not opted_out:
        dropped = None
        if _is_loop(hashed, text):
            dropped = InboundMessage.Outcome.LOOP
        elif _replies_this_hour(hashed) >= settings.SMS_REPLIES_PER_HOUR:
            dropped = InboundMessage.Outcome.RATE_LIMITED
        if dropped:
            # Counted, without the number: the drop itself says nothing about anyone.
            inbound.outcome = dropped
            inbound.phone_hash = ""
            inbound.save(update_fields=["outcome", "phone_hash"])
            return inbound, None
    turn = converse(state=_state_for(conversation, opted_out), text=text, lookup=DbLookup())
    _persist(hashed, number, conversation, turn)
    if not turn.replies and turn.state.opted_out:
        inbound.outcome = InboundMessage.Outcome.OPTED_OUT
        inbound.save(update_fields=["outcome"])
    return inbound, turn


def _persist(hashed: str, number: str, conversation: Conversation, turn: Turn) -> None:
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
        InboundMessage.objects.filter(phone_hash=hashed).update(phone_hash="")
        return
    state = turn.state
    values = {
        "language": state.language,
        "place_id": state.place_id,
        "menu": state.menu,
        "choices": list(state.choices),
    }
    for name, value in values.items():
        setattr(conversation, name, value)
    conversation.save()


def inbound_message_handle(*, sid: str, from_number: str, body: str) -> InboundResult:
    """Answer one incoming SMS: once per sid, within the abuse limits, STOP first.

    The body and the number live only in memory here: the database keeps the sid, the keyed
    hash of the number and the conversation state; the replies go to the delivery pipeline
    (``replies_dispatch``), or back to the webhook for its TwiML when the broker is down.
    """
    hashed = phone_hash(from_number)
    inbound, turn = _receive(sid=sid, hashed=hashed, number=from_number, text=body)
    if inbound is None:
        return InboundResult(outcome="duplicate", duplicate=True)
    if turn is None:
        logger.info("SMS %s dropped (%s)", sid, inbound.outcome)
        return InboundResult(outcome=inbound.outcome)
    twiml_replies: list[str] = []
    if turn.replies:
        twiml_replies = replies_dispatch(
            to=from_number,
            bodies=turn.replies,
            language=turn.language,
            # The opt-out confirmation goes in the webhook's answer: the queue would find the
            # number opted out and never send it.
            in_twiml=turn.effect == Effect.OPT_OUT,
        )
        _count_replies(hashed, len(turn.replies))
        # The erased resident's row keeps no number either.
        InboundMessage.objects.filter(pk=inbound.pk).update(reply_count=len(turn.replies))
    return InboundResult(outcome=inbound.outcome, replies=turn.replies, twiml_replies=twiml_replies)
