"""Whether the Celery broker (Redis) answers: delivery queues through it when it does."""

from functools import cache

import redis
from django.conf import settings


@cache
def _client(url: str) -> redis.Redis:
    # One pool per process: a new connection for every ping cost more than the ping.
    return redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)


def broker_state() -> str:
    """Return "ok" or "down" for the Redis broker, or "eager" when tasks run in process."""
    if not settings.REDIS_URL:
        return "eager"
    try:
        _client(settings.REDIS_URL).ping()
    except redis.RedisError:
        return "down"
    return "ok"
