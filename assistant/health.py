"""What /healthz reports: can we reach the database, the broker, and is a worker alive."""

import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from assistant.tasks import HEARTBEAT_CACHE_KEY


def database_state() -> str:
    """Return "ok" if a query reaches the database, else "down"."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return "down"
    return "ok"


def broker_state() -> str:
    """Return "ok" or "down" for the Redis broker, or "eager" when tasks run in process."""
    if not settings.REDIS_URL:
        return "eager"
    import redis

    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=0.5, socket_timeout=0.5
        )
        client.ping()
    except redis.RedisError:
        return "down"
    return "ok"


def worker_seconds_since_heartbeat() -> int | None:
    """Return how long ago a worker last ran the heartbeat task, if one ever did."""
    try:
        last = cache.get(HEARTBEAT_CACHE_KEY)
    except Exception:
        return None
    if last is None:
        return None
    return max(0, int(time.time() - float(last)))
