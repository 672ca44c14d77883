"""Reads for alerts: which changed answers should become an alert."""

from django.db.models import Count, Exists, OuterRef

from assistant.alerts.models import Alert
from assistant.content.models import ReviewFlag
from assistant.sms.models import Subscription


def alert_proposals():
    """Return the open ANSWER_CHANGED flags whose place has subscribers and no alert yet."""
    return (
        ReviewFlag.objects.filter(
            reason=ReviewFlag.Reason.ANSWER_CHANGED,
            resolved_at__isnull=True,
            place__isnull=False,
        )
        .filter(Exists(Subscription.objects.filter(place_id=OuterRef("place_id"))))
        .exclude(Exists(Alert.objects.filter(flag_id=OuterRef("pk"))))
        .select_related("place", "place__state")
        .annotate(subscriber_count=Count("place__subscriptions"))
        .order_by("-created_at")
    )
