"""The deliver task. Thin: it takes a message id and calls assistant.delivery.sending."""

import logging

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError
from django.db import OperationalError as DatabaseOperationalError

from assistant.delivery.sending import (
    DeliveryDeferred,
    DeliveryRetry,
    outbound_deliver,
    outbound_fail,
)
from config.celery import BoundedRedeliveryTask

logger = logging.getLogger(__name__)

# While PostgreSQL cannot be reached, a task is tried again this long after.
DATABASE_RETRY_SECONDS = 5


class DeliverTask(BoundedRedeliveryTask):
    """The deliver task: when its worker died too often, the message ends in failed."""

    def on_redelivery_exhausted(self, message_id: int, *args, **kwargs) -> None:
        """Mark the message failed, visibly, instead of leaving it queued forever."""
        outbound_fail(
            message_id=message_id,
            reason=(
                f"The worker stopped more than {settings.CELERY_MAX_REDELIVERIES} times while "
                "sending this message; gave up."
            ),
        )


@shared_task(name="assistant.tasks.deliver", bind=True, base=DeliverTask, ignore_result=True)
def deliver(self, message_id: int) -> str:
    """Send outbound message ``message_id`` (see assistant.delivery.sending).

    Waiting for a turn and retrying after a transient error both enqueue a fresh task with a
    countdown, rather than ``self.retry``: the retry count lives on the message (its
    ``attempts``), and the task id's delivery counter stays a count of dead workers only.
    """
    try:
        return outbound_deliver(message_id=message_id)
    except (DatabaseOperationalError, InterfaceError):
        if self.app.conf.task_always_eager:
            raise
        # PostgreSQL is down or restarting. Tried again shortly rather than left queued until
        # requeue_stale (SMS_REQUEUE_AFTER_SECONDS); an attempt cut off after Twilio took the
        # message is looked up before any new send, as always.
        logger.warning("Message %s: database unreachable; trying again.", message_id)
        queue = (self.request.delivery_info or {}).get("routing_key") or None
        deliver.apply_async(args=[message_id], countdown=DATABASE_RETRY_SECONDS, queue=queue)
        return "database-down"
    except (DeliveryDeferred, DeliveryRetry) as exc:
        if self.app.conf.task_always_eager:
            # No broker (make run): an eager countdown would run at once, over and over.
            # The message stays queued; outbound_requeue_stale picks it up.
            logger.warning("Message %s not sent yet (%s); left queued.", message_id, exc)
            return "left-queued"
        # Back on the queue it came from: a reply stays ahead of alerts.
        queue = (self.request.delivery_info or {}).get("routing_key") or None
        deliver.apply_async(args=[message_id], countdown=exc.countdown, queue=queue)
        return "deferred" if isinstance(exc, DeliveryDeferred) else "retry"
