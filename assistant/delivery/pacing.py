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
"""

from dataclasses import dataclass
from functools import cache

from django.conf import settings

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
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    return client.register_script(_RESERVE)


def pace_reserve(*, sender: str, segments: int, max_wait: float | None = None) -> Turn:
    """Take the next turn to send ``segments`` from ``sender``, if it comes within ``max_wait``.

    Raise redis.RedisError when Redis cannot be reached (the caller retries later).
    """
    rate = pace_for(sender)
    if rate <= 0 or not settings.REDIS_URL or segments <= 0:
        return Turn(granted=True, wait=0.0)
    if max_wait is None:
        max_wait = settings.SMS_PACE_MAX_WAIT_SECONDS
    effective_rate = rate * (1 - settings.SMS_PACE_HEADROOM)
    granted, wait = _script(settings.REDIS_URL)(
        keys=[f"kyp:pace:{sender}"], args=[segments, effective_rate, max_wait]
    )
    return Turn(granted=bool(int(granted)), wait=max(0.0, float(wait)))
