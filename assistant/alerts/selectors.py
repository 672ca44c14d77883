"""Reads for alerts: which changed answers should become an alert."""

import datetime

from django.db.models import Count, Exists, IntegerField, OuterRef, Subquery
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

    Only subscribers from before the change count: the site's answer changed when the
    import found it (the flag's time), and who subscribed after that already read the new
    answer; telling them police "now" have an agreement would be wrong. ICE's own date is not
    used: a list published late still changed what residents were told only when imported.
    A flag closed because the guide was published or the answer confirmed still proposes
    its alert.
    """
    now = now or timezone.now()
    before_change = Subscription.objects.filter(
        place_id=OuterRef("place_id"), created_at__lt=OuterRef("created_at")
    )
    return (
        ReviewFlag.objects.filter(
            reason=ReviewFlag.Reason.ANSWER_CHANGED,
            place__isnull=False,
            created_at__gte=now - datetime.timedelta(days=PROPOSAL_DAYS),
        )
        .filter(Exists(before_change))
        .exclude(Exists(Alert.objects.filter(flag_id=OuterRef("pk"))))
        .select_related("place", "place__state")
        .annotate(subscriber_count=_count(before_change))
        .order_by("-created_at")
    )
