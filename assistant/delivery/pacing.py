"""Pacing shared by every worker: a token bucket per sender, in Redis, counted in segments.

Celery's ``rate_limit`` is per worker, so two workers would send twice as fast as Twilio
allows. Here every worker asks one Redis key per sender for its turn. The bucket is kept in
its GCRA form (a "theoretical arrival time"): it holds at most the segments of the message
being sent, so a message of ``n`` segments uses ``n / rate`` seconds of the sender's time
and the next one waits for it. That keeps every window of one second at the pace, where a
bucket holding a second's worth of tokens would allow twice the pace across its edge.

Turns are spaced for ``(1 - SMS_PACE_HEADROOM)`` of the pace (95% by default): a turn is
taken in Redis, but the request reaches Twilio a few milliseconds later, and not always the
same few, so pacing at exactly the limit would now and then put one message too many into a
second.

A worker that would wait longer than ``SMS_PACE_MAX_WAIT_SECONDS`` does not take a turn;
it is told how long to wait and re-queues the message with that countdown, so nothing is
dropped and no worker sleeps for minutes.

When Redis cannot be reached, a worker still holding a message paces it in its own memory,
the same way, instead of failing it: each worker process then keeps the pace on its own, so
for the length of the outage a sender may go over it (Twilio queues what it cannot send
at once).
"""

import logging
import threading
import time
from dataclasses import dataclass
from functools import cache

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

# KEYS[1]: the sender's key. ARGV: segments, segments per second, longest acceptable wait.
# Returns {1, wait} when a turn was taken (start after `wait` seconds), {0, wait} when not.
# Redis's own clock is used, so workers on hosts with different clocks agree.
_RESERVE = """
local segments = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local wait = tat - now
if wait > max_wait then
  return {0, tostring(wait)}
end
local next_tat = tat + segments / rate
redis.call('SET', KEYS[1], string.format('%.6f', next_tat),
           'PX', math.ceil((next_tat - now) * 1000) + 1000)
return {1, tostring(wait)}
"""


@dataclass(frozen=True)
class Turn:
    """The answer to "may I send now?": ``granted`` after ``wait`` seconds, or come back."""

    granted: bool
    wait: float


def pace_for(sender: str) -> float:
    """Return the segments per second allowed for ``sender`` (0: not paced)."""
    return settings.SMS_PACE_PER_SENDER.get(sender, settings.SMS_PACE_DEFAULT)


@cache
def _script(url: str):
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
    return client.register_script(_RESERVE)


# The theoretical arrival time per sender, in this process, while Redis is down.
_local_tat: dict[str, float] = {}
_local_lock = threading.Lock()
_pacing_alone = threading.Event()  # set while this process paces on its own (logged once)


def _reserve_here(key: str, segments: int, rate: float, max_wait: float) -> tuple[int, float]:
    """Return what ``_RESERVE`` would, counted in this process's memory."""
    with _local_lock:
        now = time.monotonic()
        tat = max(_local_tat.get(key, 0.0), now)
        wait = tat - now
        if wait > max_wait:
            return 0, wait
        _local_tat[key] = tat + segments / rate
        return 1, wait


def pace_reserve(*, sender: str, segments: int, max_wait: float | None = None) -> Turn:
    """Take the next turn to send ``segments`` from ``sender``, if it comes within ``max_wait``.

    Counted in Redis, shared by every worker; in this process alone while Redis is down.
    """
    rate = pace_for(sender)
    if rate <= 0 or not settings.REDIS_URL or segments <= 0:
        return Turn(granted=True, wait=0.0)
    if max_wait is None:
        max_wait = settings.SMS_PACE_MAX_WAIT_SECONDS
    effective_rate = rate * (1 - settings.SMS_PACE_HEADROOM)
    key = f"kyp:pace:{sender}"
    try:
        granted, wait = _script(settings.REDIS_URL)(
            keys=[key], args=[segments, effective_rate, max_wait]
        )
    except (redis.RedisError, OSError) as exc:
        if not _pacing_alone.is_set():
            _pacing_alone.set()
            logger.warning("Redis down (%s): this worker paces its sends on its own.", exc)
        granted, wait = _reserve_here(key, segments, effective_rate, max_wait)
    else:
        if _pacing_alone.is_set():
            _pacing_alone.clear()
            logger.warning("Redis is back: pacing is shared again.")
    return Turn(granted=bool(int(granted)), wait=max(0.0, float(wait)))
