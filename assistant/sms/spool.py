"""The inbound spool: texts kept in Redis while PostgreSQL is down, recorded when it is back.

When the webhook cannot reach the database it pushes the text onto a Redis list, the spool:
one Fernet token (FIELD_ENCRYPTION_KEY) holding the sid, the number and the text, nothing in
plain text. A MessageSid is spooled once (``SET NX``), so a retry of it is not kept twice.
While the spool holds anything, later texts join its end without trying the database, so a
resident's texts are recorded in the order they came, and a hung database is waited for once.

``inbound_spool_drain`` moves one text at a time to a processing list (``LMOVE``), records
it with ``inbound_accept`` and removes it only once its row is committed. A drain that dies
mid-way leaves its text in the processing list, and the next drain records it first; the sid
is unique, so a text recorded twice is one row. Its answer then comes from a worker, like any
other text's. The first text spooled asks for a drain; a drain that leaves texts behind (the
database is still down) asks for another a few seconds later, until none is left; Celery beat
asks every few seconds too, in case a request was lost.
"""

import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

import redis
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy

from assistant.privacy import decrypt, encrypt, is_whatsapp, phone_hash
from assistant.sms.compose import SMS, WHATSAPP, channel_override, clean
from assistant.sms.conversation import State, converse, is_opt_out
from assistant.sms.language import detect_language
from assistant.sms.lookup import DbLookup
from assistant.sms.services import inbound_accept

logger = logging.getLogger(__name__)

SPOOL_KEY = "sms:spool"
PROCESSING_KEY = "sms:spool:processing"
_SEEN_PREFIX = "sms:spool:seen:"
_TOLD_PREFIX = "sms:spool:told:"
_DRAIN_LOCK_KEY = "sms:spool:drain"
# Set while a drain is queued, so one is asked for at a time (expires if its task is lost).
_SCHEDULED_KEY = "sms:spool:drain:scheduled"
_SCHEDULED_SECONDS = 30
# A resident is told "your answer is coming" once in this long, however many texts they send.
TOLD_SECONDS = 5 * 60
# While the database is down, a drain is tried again this often.
DRAIN_AGAIN_SECONDS = 2
# One drain stops after this long (the next one goes on); its lock outlives it.
DRAIN_SECONDS = 20
_DRAIN_LOCK_SECONDS = 60

ANSWER_COMING = gettext_lazy("We got your message. Your answer is coming in a few minutes.")
NOT_KEPT = gettext_lazy(
    "Sorry, our service is down. Please send your message again in a few minutes."
)

# Keep the text only if its sid is new, then say whether to tell the resident and whether to
# ask for a drain (none is queued). One script: a sid is never marked seen without its text.
_PUSH = """
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[2]) then
  return {0, 0, 0}
end
redis.call('RPUSH', KEYS[2], ARGV[1])
local tell = redis.call('SET', KEYS[3], '1', 'NX', 'EX', ARGV[3]) and 1 or 0
local kick = redis.call('SET', KEYS[4], '1', 'NX', 'EX', ARGV[4]) and 1 or 0
return {1, tell, kick}
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class SpoolUnavailable(Exception):
    """Redis cannot keep the text (it is down, or there is no REDIS_URL)."""


@dataclass
class SpoolResult:
    """What the webhook answers for a text it gave to the spool, and whether to ask for a drain."""

    replies: list[str] = field(default_factory=list)
    kept: bool = False
    drain_soon: bool = False


@cache
def _client(url: str) -> redis.Redis:
    # Short timeouts: the webhook asks on every text, and a hung Redis must not hold it.
    return redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=1)


@cache
def _registered(url: str, source: str):
    return _client(url).register_script(source)


def _redis() -> redis.Redis:
    if not settings.REDIS_URL:
        raise SpoolUnavailable("no REDIS_URL")
    return _client(settings.REDIS_URL)


def _script(source: str):
    _redis()
    return _registered(settings.REDIS_URL, source)


def inbound_spool_size() -> int | None:
    """Return how many texts wait in the spool, or None when Redis cannot be asked."""
    try:
        with _redis().pipeline(transaction=False) as pipe:
            pipe.llen(SPOOL_KEY)
            pipe.llen(PROCESSING_KEY)
            return sum(pipe.execute())
    except (SpoolUnavailable, redis.RedisError):
        return None


def inbound_spool_waiting() -> bool:
    """Return True while texts kept during an outage still wait to be recorded."""
    try:
        return bool(_redis().exists(SPOOL_KEY, PROCESSING_KEY))
    except (SpoolUnavailable, redis.RedisError):
        return False


def inbound_spool_accept(*, sid: str, from_number: str, body: str) -> SpoolResult:
    """Keep one text in the spool; return what the webhook answers in its TwiML.

    Kept: "your answer is coming" (once per resident in TOLD_SECONDS), or for an opt-out its
    usual confirmation (the conversation makes it without the database). A sid kept before:
    nothing. Redis down too: the text is lost, and the resident is asked to send it again.
    """
    token = encrypt(json.dumps({"sid": sid, "from": from_number, "body": body}))
    try:
        kept, tell, kick = _script(_PUSH)(
            keys=[
                _SEEN_PREFIX + sid,
                SPOOL_KEY,
                _TOLD_PREFIX + phone_hash(from_number),
                _SCHEDULED_KEY,
            ],
            args=[
                token,
                settings.INBOUND_RETENTION_HOURS * 60 * 60,
                TOLD_SECONDS,
                _SCHEDULED_SECONDS,
            ],
        )
    except (SpoolUnavailable, redis.RedisError):
        logger.error(
            "Database and Redis down: SMS %s could not be kept; the resident is asked to "
            "send it again.",
            sid,
        )
        return SpoolResult(replies=_in_their_language(NOT_KEPT, from_number, body))
    if not kept:
        return SpoolResult()
    logger.info("SMS %s kept in the spool until the database answers.", sid)
    if is_opt_out(body):
        replies = _opt_out_confirmation(from_number, body)
    elif tell:
        replies = _in_their_language(ANSWER_COMING, from_number, body)
    else:
        replies = []
    return SpoolResult(replies=replies, kept=True, drain_soon=bool(kick))


def _channel(number: str) -> str:
    return WHATSAPP if is_whatsapp(number) else SMS


def _in_their_language(message, number: str, body: str) -> list[str]:
    """Return ``message`` in the language of ``body``, or in English and Spanish when unsure."""
    language = detect_language(body).language
    languages = [language] if language else ["en", "es"]
    parts = []
    with channel_override(_channel(number)):
        for code in languages:
            with translation.override(code):
                parts.append(clean(str(message), language=code))
    return ["\n".join(parts)]


def _opt_out_confirmation(number: str, body: str) -> list[str]:
    # STOP is answered before any look-up, from the text alone: no database is touched.
    return converse(state=State(channel=_channel(number)), text=body, lookup=DbLookup()).replies


def inbound_spool_drain(*, answer: Callable[[int], object], seconds: float = DRAIN_SECONDS) -> int:
    """Record the spooled texts oldest first and hand each row's id to ``answer``.

    Return how many texts left the spool. One drain at a time (a Redis lock), so texts are
    recorded in the order they were spooled, and a resident's are answered in that order.
    A database error propagates and leaves the text in the processing list for the next
    drain; a text that cannot be read (FIELD_ENCRYPTION_KEY changed) is dropped and logged.
    """
    client = _redis()
    client.delete(_SCHEDULED_KEY)  # this is the drain that was asked for
    lock = uuid.uuid4().hex
    if not client.set(_DRAIN_LOCK_KEY, lock, nx=True, ex=_DRAIN_LOCK_SECONDS):
        return 0
    done = 0
    deadline = time.monotonic() + seconds
    try:
        # What a drain that died left behind came before anything still in the spool.
        for entry in client.lrange(PROCESSING_KEY, 0, -1):
            done += _record(client, entry, answer)
        while time.monotonic() < deadline:
            entry = client.lmove(SPOOL_KEY, PROCESSING_KEY, "LEFT", "RIGHT")
            if entry is None:
                break
            done += _record(client, entry, answer)
    finally:
        _script(_RELEASE)(keys=[_DRAIN_LOCK_KEY], args=[lock])
    return done


def inbound_spool_drain_again() -> bool:
    """Return True when texts still wait and no drain is queued (one is now asked for)."""
    try:
        client = _redis()
        return bool(client.exists(SPOOL_KEY, PROCESSING_KEY)) and bool(
            client.set(_SCHEDULED_KEY, "1", nx=True, ex=_SCHEDULED_SECONDS)
        )
    except (SpoolUnavailable, redis.RedisError):
        return False


def _record(client: redis.Redis, entry: bytes, answer: Callable[[int], object]) -> int:
    try:
        message = json.loads(decrypt(entry.decode()))
        sid, number, body = message["sid"], message["from"], message["body"]
    except (ValueError, KeyError, TypeError):
        logger.error("A spooled SMS could not be read (FIELD_ENCRYPTION_KEY changed?): dropped.")
        client.lrem(PROCESSING_KEY, 1, entry)
        return 1
    # A sid recorded already (a retry, or a drain that died after the commit) comes back only
    # while still pending, and answering is idempotent.
    inbound = inbound_accept(sid=sid, from_number=number, body=body)
    if inbound is not None:
        answer(inbound.pk)
    client.lrem(PROCESSING_KEY, 1, entry)
    return 1
