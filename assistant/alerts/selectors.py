"""Reads for alerts: which changed answers should become an alert."""

import datetime

from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, Subquery, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from assistant.alerts.models import Alert
from assistant.content.models import ReviewFlag
from assistant.sms.models import Subscription

# A change older than this is not news any more; organizers are not asked to alert about it.
PROPOSAL_DAYS = 30


def _count(subscriptions):
    return Coalesce(
        Subquery(
            subscriptions.order_by().values("place_id").annotate(n=Count("pk")).values("n"),
            output_field=IntegerField(),
        ),
        0,
    )


def alert_proposals(*, now: datetime.datetime | None = None):
    """Return recent ANSWER_CHANGED flags whose place had subscribers before the change and
    has no alert yet, newest first, each with ``subscriber_count`` (who would get it).

    Only subscribers from before the change count: who subscribed after the import that
    found it, or after ICE's date for it, already saw the new answer, and telling them police
    "now" have an agreement that was in force when they subscribed would be wrong. A flag
    closed because the guide was published or the answer confirmed still proposes its alert.
    """
    now = now or timezone.now()
    before_import = Subscription.objects.filter(
        place_id=OuterRef("place_id"), created_at__lt=OuterRef("created_at")
    )
    before_change = before_import.filter(created_at__date__lte=OuterRef("changed_on"))
    return (
        ReviewFlag.objects.filter(
            reason=ReviewFlag.Reason.ANSWER_CHANGED,
            place__isnull=False,
            created_at__gte=now - datetime.timedelta(days=PROPOSAL_DAYS),
        )
        .filter((Q(changed_on__isnull=True) & Exists(before_import)) | Exists(before_change))
        .exclude(Exists(Alert.objects.filter(flag_id=OuterRef("pk"))))
        .select_related("place", "place__state")
        .annotate(
            subscriber_count=Case(
                When(changed_on__isnull=True, then=_count(before_import)),
                default=_count(before_change),
                output_field=IntegerField(),
            )
        )
        .order_by("-created_at")
    )
