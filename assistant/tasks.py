"""Celery tasks. Tasks are thin: they take ids, load rows and call services."""

import logging
import time

from celery import shared_task
from django.core.cache import cache

from config.celery import BoundedRedeliveryTask

HEARTBEAT_CACHE_KEY = "worker:heartbeat"
logger = logging.getLogger(__name__)


@shared_task
def worker_heartbeat() -> float:
    """Record that a worker is consuming tasks, for /healthz to report."""
    now = time.time()
    cache.set(HEARTBEAT_CACHE_KEY, now, timeout=60 * 60)
    return now


class DeliverTask(BoundedRedeliveryTask):
    """The deliver task: when its worker died too often, the message ends in failed."""

    def on_redelivery_exhausted(self, message_id: int, *args, **kwargs) -> None:
        """Mark the message failed, visibly, instead of leaving it queued forever."""
        from django.conf import settings

        from assistant.services.delivery import outbound_fail

        outbound_fail(
            message_id=message_id,
            reason=(
                f"The worker stopped more than {settings.CELERY_MAX_REDELIVERIES} times while "
                "sending this message; gave up."
            ),
        )


@shared_task(bind=True, base=DeliverTask, ignore_result=True)
def deliver(self, message_id: int) -> str:
    """Send outbound message ``message_id`` (see assistant.services.delivery).

    Waiting for a turn and retrying after a transient error both enqueue a fresh task with a
    countdown, rather than ``self.retry``: the retry count lives on the message (its
    ``attempts``), and the task id's delivery counter stays a count of dead workers only.
    """
    from assistant.services.delivery import DeliveryDeferred, DeliveryRetry, outbound_deliver

    try:
        return outbound_deliver(message_id=message_id)
    except (DeliveryDeferred, DeliveryRetry) as exc:
        if self.app.conf.task_always_eager:
            # No broker (make run): an eager countdown would run at once, over and over.
            # The message stays queued; outbound_requeue_stale picks it up.
            logger.warning("Message %s not sent yet (%s); left queued.", message_id, exc)
            return "left-queued"
        deliver.apply_async(args=[message_id], countdown=exc.countdown)
        return "deferred" if isinstance(exc, DeliveryDeferred) else "retry"


@shared_task(ignore_result=True)
def requeue_stale() -> int:
    """Enqueue again the messages and alerts whose task was lost (see the two services)."""
    from assistant.services.alerts import alert_requeue_stale
    from assistant.services.delivery import outbound_requeue_stale

    alert_requeue_stale()
    return outbound_requeue_stale()


@shared_task(ignore_result=True)
def alert_send(alert_id: int) -> int:
    """Queue alert ``alert_id`` for its subscribers (see assistant.services.alerts.alert_send).

    Late-acknowledged like every task: a worker killed mid-alert gets it again, and the
    service skips the subscribers already queued.
    """
    from assistant.services.alerts import alert_send as send

    return send(alert_id=alert_id)


@shared_task(ignore_result=True)
def purge_expired() -> None:
    """Delete what has expired (see assistant.services.retention.purge_expired); daily."""
    from assistant.services.retention import purge_expired as purge

    purge()
