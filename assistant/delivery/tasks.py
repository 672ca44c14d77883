"""The delivery tasks. Thin: they take ids and call assistant.delivery.sending and recovery."""

import logging

from celery import shared_task
from celery.signals import task_received
from django.conf import settings
from django.db import InterfaceError
from django.db import OperationalError as DatabaseOperationalError
from django.utils import timezone

from assistant.delivery.leases import (
    lease_hold,
    lease_release,
    queue_lease_seconds,
    run_lease_seconds,
)
from assistant.delivery.models import OutboundMessage
from assistant.delivery.recovery import outbound_close_sent, outbound_requeue_stale
from assistant.delivery.sending import (
    DeliveryDeferred,
    DeliveryRetry,
    outbound_deliver,
    outbound_early_apply,
    outbound_fail,
)
from assistant.delivery.status_spool import outbound_status_apply_kept
from config.celery import BoundedRedeliveryTask

logger = logging.getLogger(__name__)

# While PostgreSQL cannot be reached, a task is tried again this long after.
DATABASE_RETRY_SECONDS = 5


class DeliverTask(BoundedRedeliveryTask):
    """The deliver task: when its worker died too often, the message ends in failed."""

    def enqueue(
        self,
        message_ids: list[int],
        *,
        queue: str | None = None,
        countdown: float = 0,
        retry: bool = True,
    ) -> None:
        """Enqueue this task for each id and hold their leases (delivery.leases).

        Every enqueue of a message goes through here; many go through one producer (one
        broker connection). ``retry=False`` fails at once when the broker is down (the
        webhook must not wait). Raise the broker's error; the leases are released then, as
        no task holds them.
        """
        options = {"queue": queue, "countdown": countdown or None, "retry": retry}
        # Held for a short while first, the full time once the broker has the tasks: when
        # Redis goes away between the two, the release below cannot reach it either, and a
        # full-length lease would keep a message no task holds from being re-queued for
        # SMS_REQUEUE_AFTER_SECONDS.
        lease_hold(message_ids, run_lease_seconds())
        try:
            if len(message_ids) == 1 or self.app.conf.task_always_eager:
                # Eager (no broker), a task runs here and may enqueue the next reply: nested
                # producers would drain the pool.
                for message_id in message_ids:
                    self.apply_async(args=[message_id], **options)
            else:
                with self.app.producer_or_acquire() as producer:
                    for message_id in message_ids:
                        self.apply_async(args=[message_id], producer=producer, **options)
        except Exception:
            for message_id in message_ids:
                lease_release(message_id)
            raise
        lease_hold(message_ids, queue_lease_seconds(countdown))

    def run_here(
        self, message_id: int, *, queue: str | None, created: OutboundMessage | None = None
    ) -> str:
        """Send ``message_id`` in this process now, as the task does; return the outcome.

        What the task runs, and what a worker that has just answered a text runs for the
        first reply (no hop through the broker to another worker; ``created`` is that reply
        as the worker wrote it, see outbound_deliver). When it is not the message's turn
        (pacing), or after a transient error, the task is enqueued on ``queue`` with a
        countdown; the lease (delivery.leases) is held throughout.
        """
        lease_hold(message_id, run_lease_seconds())
        try:
            outcome = outbound_deliver(message_id=message_id, created=created)
        except (DatabaseOperationalError, InterfaceError):
            if self.app.conf.task_always_eager:
                raise
            # PostgreSQL is down or restarting. Tried again shortly rather than left to the
            # re-queue of stranded work; an attempt cut off after Twilio took the message is
            # looked up before any new send, as always. The lease goes with the new task.
            logger.warning("Message %s: database unreachable; trying again.", message_id)
            self.enqueue([message_id], queue=queue, countdown=DATABASE_RETRY_SECONDS)
            return "database-down"
        except (DeliveryDeferred, DeliveryRetry) as exc:
            if self.app.conf.task_always_eager:
                # No broker (make run): an eager countdown would run at once, over and over.
                # The message stays queued; outbound_requeue_stale picks it up.
                logger.warning("Message %s not sent yet (%s); left queued.", message_id, exc)
                lease_release(message_id)
                return "left-queued"
            # Back on the queue it came from: a reply stays ahead of alerts.
            self.enqueue([message_id], queue=queue, countdown=exc.countdown)
            return "deferred" if isinstance(exc, DeliveryDeferred) else "retry"
        lease_release(message_id)
        return outcome

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
    The message's lease (delivery.leases) is held while this runs and passed on to the task
    it enqueues; it is released when no task of the message is left.
    """
    queue = (self.request.delivery_info or {}).get("routing_key") or None
    return self.run_here(message_id, queue=queue)


@task_received.connect
def deliver_received(sender=None, request=None, **kwargs) -> None:
    """Renew the lease of a deliver task a worker has taken: until its ETA, plus one run.

    A deferred task waits for its ETA inside the worker that took it, and dies with it: from
    here on its lease is short, so that a dead worker's messages are re-queued in seconds.
    """
    if request is None or request.name != deliver.name or not request.args:
        return
    eta = request.eta
    # A task without an ETA may wait for a free process: at most one run ahead of it.
    wait = (eta - timezone.now()).total_seconds() if eta else run_lease_seconds()
    lease_hold(int(request.args[0]), max(0.0, wait) + run_lease_seconds())


@shared_task(name="assistant.tasks.outbound_requeue_stranded", ignore_result=True)
def requeue_stranded() -> int:
    """Apply status callbacks kept while the database was down and those kept for a sid not
    saved yet while Redis was, then enqueue again the messages whose task was lost
    (recovery.outbound_requeue_stale)."""
    outbound_status_apply_kept()
    outbound_early_apply()
    return outbound_requeue_stale()


@shared_task(name="assistant.tasks.outbound_close_sent", ignore_result=True)
def close_sent() -> int:
    """Ask Twilio about messages sent long ago without a final status (outbound_close_sent)."""
    return outbound_close_sent()
