"""Celery tasks for alerts, and the beat task that re-queues lost work. Names unchanged."""

import logging
import time
from datetime import timedelta

from celery import shared_task
from django.core.cache import cache

from assistant.alerts.models import Alert
from assistant.alerts.sending import ALIVE_KEY
from assistant.alerts.sending import alert_send as send
from assistant.delivery.services import outbound_requeue_stale

logger = logging.getLogger(__name__)


@shared_task(name="assistant.tasks.alert_send", ignore_result=True)
def alert_send(alert_id: int) -> int:
    """Queue alert ``alert_id`` for its subscribers (see assistant.alerts.sending.alert_send).

    Late-acknowledged like every task: a worker killed mid-alert gets it again, and the
    service skips the subscribers already queued.
    """
    return send(alert_id=alert_id)


@shared_task(name="assistant.tasks.requeue_stale", ignore_result=True)
def requeue_stale() -> int:
    """Enqueue again the messages and alerts whose task was lost (see the two functions)."""
    alert_requeue_stale()
    return outbound_requeue_stale()


def alert_requeue_stale(*, older_than: timedelta = timedelta(seconds=60)) -> int:
    """Enqueue ``alert_send`` again for every approved alert that stopped being queued.

    A worker killed outright (SIGKILL of the whole worker) takes the task with it until the
    broker's visibility timeout (hours). An alert still approved or sending whose last batch
    was written longer than ``older_than`` ago is sent again; the run skips everyone
    already queued, so nobody gets a second copy. Return how many alerts were re-queued.
    """

    now = time.time()
    requeued = 0
    for alert_id, approved_at in Alert.objects.filter(
        status__in=[Alert.Status.APPROVED, Alert.Status.SENDING]
    ).values_list("pk", "approved_at"):
        last = cache.get(ALIVE_KEY.format(alert_id=alert_id))
        if last is None:
            last = approved_at.timestamp() if approved_at else 0
        if now - last > older_than.total_seconds():
            alert_send.apply_async(args=[alert_id])
            cache.set(ALIVE_KEY.format(alert_id=alert_id), now, timeout=24 * 60 * 60)
            requeued += 1
    if requeued:
        logger.info("Re-queued %d alert(s) whose sending had stopped.", requeued)
    return requeued
