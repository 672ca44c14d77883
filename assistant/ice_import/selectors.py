"""Reads: which of ICE's lists the answers come from."""

from django.conf import settings
from django.utils import timezone

from assistant.ice_import.models import ImportSnapshot
from assistant.places.selectors import ListStatus


def ice_list_status() -> ListStatus | None:
    """Return the date and age of the newest ICE list applied, or None before the first."""
    latest = ImportSnapshot.objects.order_by("-as_of", "-imported_at").only("as_of").first()
    if latest is None:
        return None
    checked = (
        ImportSnapshot.objects.order_by("-imported_at").values_list("imported_at", flat=True)
    ).first()
    today = timezone.localdate()
    return ListStatus(
        as_of=latest.as_of,
        age_days=max((today - latest.as_of).days, 0),
        stale_after_days=settings.ICE_LIST_STALE_DAYS,
        checked_at=checked,
    )
