"""Celery tasks. Tasks are thin: they take ids, load rows and call services."""

import time

from celery import shared_task
from django.core.cache import cache

HEARTBEAT_CACHE_KEY = "worker:heartbeat"


@shared_task
def worker_heartbeat() -> float:
    """Record that a worker is consuming tasks, for /healthz to report."""
    now = time.time()
    cache.set(HEARTBEAT_CACHE_KEY, now, timeout=60 * 60)
    return now
