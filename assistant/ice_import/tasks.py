"""Celery task: check ICE's 287(g) page every ``ICE_FETCH_EVERY_HOURS`` (the beat schedule)."""

from celery import shared_task

from assistant.ice_import.services import ice_lists_fetch


@shared_task(name="assistant.tasks.fetch_287g", ignore_result=True)
def fetch_287g() -> str:
    """Fetch ICE's lists; a failure is logged and recorded by the service, not raised."""
    return ice_lists_fetch().check.outcome
