import datetime

from django.db import transaction
from django.utils import timezone

from assistant.content.models import ReviewFlag
from assistant.places.models import Place


@transaction.atomic
def review_flag_raise(
    *, place: Place | None, reason: str, detail: str = "", changed_on: datetime.date | None = None
) -> ReviewFlag:
    """Open a flag for an organizer, or add to the open flag with the same place and reason."""
    flag = (
        ReviewFlag.objects.select_for_update()
        .filter(place=place, reason=reason, resolved_at__isnull=True)
        .first()
    )
    if flag is None:
        return ReviewFlag.objects.create(
            place=place, reason=reason, detail=detail, changed_on=changed_on
        )
    if detail and detail not in flag.detail:
        flag.detail = f"{flag.detail}\n{detail}".strip()
    if changed_on and (flag.changed_on is None or changed_on > flag.changed_on):
        flag.changed_on = changed_on
    flag.save(update_fields=["detail", "changed_on"])
    return flag


@transaction.atomic
def review_flag_resolve(*, flag: ReviewFlag, user) -> ReviewFlag:
    """Mark a flag as dealt with by ``user``."""
    flag.resolved_at = timezone.now()
    flag.resolved_by = user
    flag.save(update_fields=["resolved_at", "resolved_by"])
    return flag
