"""Celery tasks for incoming SMS. Thin: they take an inbound message's id, never its text."""

import logging

from celery import shared_task
from django.db import DatabaseError, InterfaceError
from django.db import OperationalError as DatabaseOperationalError
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

from assistant.sms.models import InboundMessage
from assistant.sms.services import inbound_answer_pending, inbound_requeue_stale
from assistant.sms.spool import (
    DRAIN_AGAIN_SECONDS,
    inbound_spool_drain_again,
    inbound_spool_waiting,
)
from assistant.sms.spool import inbound_spool_drain as spool_drain
from assistant.sms.wake import (
    inbound_shard_drain,
    inbound_wake_claim_shard,
    inbound_wake_release,
    inbound_wake_renew,
)

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


@shared_task(name="assistant.tasks.inbound_drain", bind=True, ignore_result=True)
def inbound_drain(self, shard: str) -> int:
    """Answer the pending texts of one shard of residents (see assistant.sms.wake); return
    how many residents were answered.

    The webhook asks for one per shard when none is queued or running. With texts still
    left when its time is up, it asks for the next one and ends, so every shard gets its turn.
    While the database cannot be reached it is tried again shortly, keeping the shard's flag.
    """
    countdown = 0
    try:
        answered, more = inbound_shard_drain(shard)
    except (DatabaseOperationalError, InterfaceError):
        if self.request.is_eager:
            raise
        logger.warning("SMS shard %s: database unreachable; draining it again shortly.", shard)
        answered, more, countdown = 0, True, DATABASE_RETRY_SECONDS
        inbound_wake_renew(shard)
    if more:
        try:
            inbound_drain.apply_async(args=[shard], countdown=countdown, retry=False)
        except (KombuOperationalError, RedisError, OSError):
            # With the flag deleted, the shard's next text asks for a drain again (and
            # inbound_requeue_stale answers what is left meanwhile).
            logger.warning("SMS shard %s: the next drain could not be queued.", shard)
            inbound_wake_release(shard)
    return answered


@shared_task(name="assistant.tasks.inbound_requeue_stale", ignore_result=True)
def inbound_requeue() -> int:
    """Ask for a drain of every shard whose texts wait too long (``inbound_requeue_stale``).

    Not for a shard whose flag is held: its drain is queued or running, or was lost at most
    FLAG_SECONDS ago (the next run asks then). Return how many drains were asked for.
    """
    woken = 0
    for shard in inbound_requeue_stale():
        if inbound_wake_claim_shard(shard):
            try:
                inbound_drain.apply_async(args=[shard], retry=False)
            except (KombuOperationalError, RedisError, OSError):
                inbound_wake_release(shard)
                raise
            woken += 1
    return woken


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
