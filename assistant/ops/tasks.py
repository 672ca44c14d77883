"""Celery tasks for keeping the service healthy and its data short-lived. Names unchanged."""

import time

from celery import shared_task
from django.core.cache import cache

from assistant.ops.health import HEARTBEAT_CACHE_KEY
from assistant.ops.retention import purge_expired as purge


@shared_task(name="assistant.tasks.worker_heartbeat")
def worker_heartbeat() -> float:
    """Record that a worker is consuming tasks, for /healthz to report."""
    now = time.time()
    cache.set(HEARTBEAT_CACHE_KEY, now, timeout=60 * 60)
    return now


@shared_task(name="assistant.tasks.purge_expired", ignore_result=True)
def purge_expired() -> None:
    """Delete what has expired (see assistant.ops.retention.purge_expired); daily."""
    purge()
