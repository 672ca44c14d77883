"""Celery tasks for incoming SMS. Thin: they take an inbound message's id, never its text."""

from celery import shared_task

from assistant.sms.models import InboundMessage
from assistant.sms.services import inbound_answer_pending, inbound_requeue_stale


@shared_task(name="assistant.tasks.inbound_answer", ignore_result=True)
def inbound_answer(inbound_id: int) -> str:
    """Answer inbound message ``inbound_id`` and any older pending text of the same resident.

    Answering goes oldest first under the resident's lock (``inbound_answer_pending``), so
    a task may find its message already answered by the task of an earlier one.
    """
    hashed = (
        InboundMessage.objects.filter(pk=inbound_id, outcome=InboundMessage.Outcome.PENDING)
        .values_list("phone_hash", flat=True)
        .first()
    )
    if not hashed:
        return "already-answered"
    return inbound_answer_pending(hashed=hashed).outcome


@shared_task(name="assistant.tasks.inbound_requeue_stale", ignore_result=True)
def inbound_requeue() -> int:
    """Enqueue again the texts whose task was lost (see ``inbound_requeue_stale``)."""
    ids = inbound_requeue_stale()
    for inbound_id in ids:
        inbound_answer.delay(inbound_id)
    return len(ids)
