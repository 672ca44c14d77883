"""What /healthz reports: can we reach the database, the broker, is a worker alive, and how
many texts wait in the spool kept while the database was down."""

import time

from django.core.cache import cache
from django.db import connection

from assistant.delivery.broker import broker_state
from assistant.sms.spool import inbound_spool_size

HEARTBEAT_CACHE_KEY = "worker:heartbeat"
__all__ = [
    "HEARTBEAT_CACHE_KEY",
    "broker_state",
    "database_state",
    "inbound_spool_size",
    "worker_seconds_since_heartbeat",
]


def database_state() -> str:
    """Return "ok" if a query reaches the database, else "down"."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
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
