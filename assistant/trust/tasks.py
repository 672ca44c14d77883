"""Celery tasks for issue 18: the beat task that queues forum reminders."""

from celery import shared_task

from assistant.trust.services import forum_reminders_send as send


@shared_task(name="assistant.tasks.forum_reminders_send", ignore_result=True)
def forum_reminders_send() -> int:
    """Queue the reminders of forums starting within two days (each subscriber gets one)."""
    return send()
