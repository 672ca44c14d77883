"""Celery tasks for incoming SMS. Thin: they take an inbound message's id, never its text."""

import logging

from celery import shared_task
from django.db import DatabaseError, InterfaceError
from django.db import OperationalError as DatabaseOperationalError
from redis.exceptions import RedisError

from assistant.sms.models import InboundMessage
from assistant.sms.services import inbound_answer_pending, inbound_requeue_stale
from assistant.sms.spool import (
    DRAIN_AGAIN_SECONDS,
    inbound_spool_drain_again,
    inbound_spool_waiting,
)
from assistant.sms.spool import inbound_spool_drain as spool_drain

logger = logging.getLogger(__name__)

# While PostgreSQL cannot be reached, an answer is tried again this long after.
DATABASE_RETRY_SECONDS = 5


@shared_task(name="assistant.tasks.inbound_answer", bind=True, ignore_result=True)
def inbound_answer(self, inbound_id: int) -> str:
    """Answer inbound message ``inbound_id`` and any older pending text of the same resident.

    Answering goes oldest first under the resident's lock (``inbound_answer_pending``), so
    a task may find its message already answered by the task of an earlier one. While the
    database cannot be reached it is tried again shortly (answering is idempotent).
    """
    try:
        hashed = (
            InboundMessage.objects.filter(pk=inbound_id, outcome=InboundMessage.Outcome.PENDING)
            .values_list("phone_hash", flat=True)
            .first()
        )
        if not hashed:
            return "already-answered"
        return inbound_answer_pending(hashed=hashed).outcome
    except (DatabaseOperationalError, InterfaceError):
        if self.request.is_eager:
            raise
        logger.warning("SMS %s: database unreachable; answering it again shortly.", inbound_id)
        inbound_answer.apply_async(args=[inbound_id], countdown=DATABASE_RETRY_SECONDS)
        return "database-down"


@shared_task(name="assistant.tasks.inbound_requeue_stale", ignore_result=True)
def inbound_requeue() -> int:
    """Enqueue again the texts whose task was lost (see ``inbound_requeue_stale``)."""
    ids = inbound_requeue_stale()
    for inbound_id in ids:
        inbound_answer.delay(inbound_id)
    return len(ids)


@shared_task(name="assistant.tasks.inbound_spool_drain", bind=True, ignore_result=True)
def inbound_spool_drain(self) -> int:
    """Record the texts kept in the spool while the database was down, and answer them.

    The webhook asks for it when it spools a text, and Celery beat every few seconds; it
    costs one Redis call when the spool is empty. While texts are left (the database is
    still down, or there were too many for one run) it asks for itself again shortly.
    """
    if not inbound_spool_waiting():
        return 0
    try:
        done = spool_drain(answer=lambda pk: inbound_answer.apply_async(args=[pk], retry=False))
    except (DatabaseError, RedisError) as exc:
        logger.warning("Spooled SMS not recorded yet: %s", type(exc).__name__)
        done = 0
    # Run eagerly (no broker), a countdown would run at once, over and over: the next text
    # asks again instead.
    if not self.request.is_eager and inbound_spool_drain_again():
        inbound_spool_drain.apply_async(countdown=DRAIN_AGAIN_SECONDS)
    return done
