"""Whether the Celery broker (Redis) answers: delivery queues through it when it does."""

import redis
from django.conf import settings


def broker_state() -> str:
    """Return "ok" or "down" for the Redis broker, or "eager" when tasks run in process."""
    if not settings.REDIS_URL:
        return "eager"
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=0.5, socket_timeout=0.5
        )
        client.ping()
    except redis.RedisError:
        return "down"
    return "ok"
