"""Review flags: raised by the import, dealt with by organizers (one by one, in bulk, or by
the action that answers them: publishing the place's guide, confirming the new answer)."""

import datetime

from django.db import transaction
from django.utils import timezone

from assistant.content.models import ReviewFlag
from assistant.places.models import Place

# Publishing a place's guide answers these: the organizer checked the place's facts.
CLOSED_BY_GUIDE = (
    ReviewFlag.Reason.ANSWER_CHANGED,
    ReviewFlag.Reason.AGREEMENTS_CHANGED,
    ReviewFlag.Reason.REVIEW_DUE,
)


@transaction.atomic
def review_flag_raise(
    *, place: Place | None, reason: str, detail: str = "", changed_on: datetime.date | None = None
) -> ReviewFlag:
    """Open a flag for an organizer, or add to the open flag with the same place and reason.

    ``detail`` may hold many lines (one per agency, say): each is added once, in one write; a
    line the flag already has is not added again.
    """
    flag = (
        ReviewFlag.objects.select_for_update()
        .filter(place=place, reason=reason, resolved_at__isnull=True)
        .first()
    )
    known = set(flag.detail.splitlines()) if flag else set()
    new = [line for line in dict.fromkeys(detail.splitlines()) if line and line not in known]
    if flag is None:
        return ReviewFlag.objects.create(
            place=place, reason=reason, detail="\n".join(new), changed_on=changed_on
        )
    if new:
        flag.detail = "\n".join([flag.detail, *new]).strip()
    if changed_on and (flag.changed_on is None or changed_on > flag.changed_on):
        flag.changed_on = changed_on
    flag.save(update_fields=["detail", "changed_on"])
    return flag


@transaction.atomic
def review_flag_resolve(*, flag: ReviewFlag, user, note: str = "") -> ReviewFlag:
    """Mark a flag as dealt with by ``user``, with a short note on how; an open flag only."""
    flag = ReviewFlag.objects.select_for_update().get(pk=flag.pk)
    if flag.resolved_at is not None:
        return flag
    flag.resolved_at = timezone.now()
    flag.resolved_by = user
    flag.resolution_note = note[:200]
    flag.save(update_fields=["resolved_at", "resolved_by", "resolution_note"])
    return flag


@transaction.atomic
def review_flags_resolve_for_place(*, place_id: int, reasons, user, note: str) -> int:
    """Close the place's open flags with one of ``reasons``; return how many were closed."""
    return ReviewFlag.objects.filter(
        place_id=place_id, reason__in=reasons, resolved_at__isnull=True
    ).update(resolved_at=timezone.now(), resolved_by=user, resolution_note=note[:200])
