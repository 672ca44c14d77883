"""Waking the workers for recorded texts: one drain task per shard of residents, not one per text.

The webhook records a text in PostgreSQL, then asks for a drain of the text's shard (the
first hex digit of the number's keyed hash: 16 shards) only when none is queued or running:
``SET NX`` of the shard's flag, one Redis call. A burst of a thousand texts asks for about
16 tasks, not a thousand, so the webhook does not build and publish a Celery message per text
(a quarter of its time), and the workers do not receive and acknowledge one.

The drain (``inbound_shard_drain``) answers the shard's residents, oldest pending text first,
each resident's texts in order under the resident's lock (``inbound_answer_pending``), until
none is left. Nothing is lost in between, by this order of steps:

- the webhook sets the flag only after its text is committed;
- a drain that finds nothing left deletes the flag, then looks once more.

A text committed before that last look is answered by this drain. A text committed after it
finds the flag deleted, so its webhook asks for a new drain. The flag expires after
FLAG_SECONDS (a drain renews it as it goes), so a drain lost with its worker holds the shard
back only that long: beat's ``inbound_requeue_stale`` then asks for a drain of every shard
whose texts wait longer than INBOUND_REQUEUE_AFTER_SECONDS.

Two drains of one shard at once (a renewal came late) are safe: the resident's lock and the
oldest-first rule keep each resident's texts in order whoever answers them.
"""

import logging
import time
from functools import cache

import redis
from django.conf import settings

from assistant.sms.services import inbound_answer_pending, inbound_pending_residents

logger = logging.getLogger(__name__)

_FLAG = "sms:drain:{shard}"
# A drain renews its shard's flag after every batch; one lost with its worker frees it then.
FLAG_SECONDS = 10
# A drain hands its shard to a new task after this long, so under a long burst every shard
# gets its turn with the workers (the new task goes to the back of the queue).
DRAIN_SECONDS = 5.0
# Residents answered per look at the shard.
BATCH = 100


@cache
def _client(url: str) -> redis.Redis:
    # Short timeouts, as for the spool: the webhook asks on every text.
    return redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=1)


def _redis() -> redis.Redis:
    return _client(settings.REDIS_URL)


def shard_of(hashed: str) -> str:
    """Return the shard of a number's keyed hash (its first hex digit)."""
    return hashed[:1]


def inbound_wake_claim(hashed: str) -> str | None:
    """Return the shard to ask a drain for, or None when one is queued or running already.

    Call it once the text is committed. Raise RedisError when Redis cannot be asked: the
    webhook then answers the text itself, as when the broker is down.
    """
    shard = shard_of(hashed)
    return shard if inbound_wake_claim_shard(shard) else None


def inbound_wake_claim_shard(shard: str) -> bool:
    """Set ``shard``'s flag; return False when it is held (a drain is queued or running)."""
    return bool(_redis().set(_FLAG.format(shard=shard), "1", nx=True, ex=FLAG_SECONDS))


def inbound_wake_release(shard: str) -> None:
    """Delete the shard's flag (best effort), so the next text asks for a drain."""
    try:
        _redis().delete(_FLAG.format(shard=shard))
    except redis.RedisError:
        pass  # it expires in FLAG_SECONDS


def _claim_again(shard: str) -> bool:
    try:
        return bool(_redis().set(_FLAG.format(shard=shard), "1", nx=True, ex=FLAG_SECONDS))
    except redis.RedisError:
        return True  # no webhook can ask for a drain either: this one goes on


def inbound_wake_renew(shard: str) -> None:
    """Keep the shard's flag FLAG_SECONDS longer (best effort)."""
    try:
        _redis().expire(_FLAG.format(shard=shard), FLAG_SECONDS)
    except redis.RedisError:
        pass


def inbound_shard_drain(shard: str, *, seconds: float = DRAIN_SECONDS) -> tuple[int, bool]:
    """Answer the pending texts of ``shard``'s residents; return (residents answered, more).

    ``more`` is True when the time was up with texts left: the caller asks for the next
    drain of the shard, whose flag this one still holds. False means the shard was empty at
    the last look and its flag is deleted (or another drain holds it now).
    """
    deadline = time.monotonic() + seconds
    answered = 0
    released = False
    while True:
        residents = inbound_pending_residents(shard=shard, limit=BATCH)
        if not residents:
            if released:
                return answered, False
            inbound_wake_release(shard)
            released = True
            continue  # one more look: a text committed before the delete is ours
        if released:
            if not _claim_again(shard):
                return answered, False  # a webhook asked for a new drain: it takes these
            released = False
        for hashed in residents:
            inbound_answer_pending(hashed=hashed)
            answered += 1
            if time.monotonic() >= deadline:
                return answered, True
        inbound_wake_renew(shard)
