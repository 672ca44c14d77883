"""Alerts to the subscribers of a place whose 287(g) answer changed.

An organizer creates the alert from the import's ANSWER_CHANGED flag (pre-filled in every
language the place's subscribers use), edits it, and a member of the Reviewer group who did
not write it approves it. Sending runs in the ``alert_send`` task, never in a web request:
for each subscriber an AlertDelivery row (unique per alert and subscription) and the
OutboundMessage are written in the same transaction, so a worker that dies mid-alert leaves
either both or neither, and the re-run skips everyone already queued.
"""

import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from assistant.alerts.models import Alert, AlertDelivery, AlertText
from assistant.alerts.tasks import alert_send
from assistant.content.models import ReviewFlag
from assistant.delivery.models import OutboundMessage
from assistant.sms.compose import clean
from assistant.sms.lookup import DbLookup
from assistant.sms.models import Subscription

logger = logging.getLogger(__name__)

ALERT_NOW_HAS = _(
    "Update for %(place)s: police there now have a 287(g) agreement with ICE. More: %(url)s "
    "Reply STOP to stop."
)
ALERT_NO_LONGER = _(
    "Update for %(place)s: police there no longer have a 287(g) agreement with ICE. More: "
    "%(url)s Reply STOP to stop."
)


class AlertNotAllowed(Exception):
    """The alert cannot be created or approved; the message says why, for the organizer."""


def subscriber_languages(*, place_id: int, before=None) -> list[str]:
    """Return the languages the place's subscribers use, in the settings' order.

    With ``before``, only of those who subscribed before then (the alert's recipients).
    """
    subscriptions = Subscription.objects.filter(place_id=place_id)
    if before is not None:
        subscriptions = subscriptions.filter(created_at__lt=before)
    used = set(subscriptions.values_list("language", flat=True))
    ordered = [code for code, _name in settings.LANGUAGES if code in used]
    return ordered + sorted(used - set(ordered))


def alert_template_text(*, place_id: int, language: str) -> str:
    """Return the pre-filled alert for the place's current answer, in ``language``."""
    lookup = DbLookup()
    answer = lookup.answer(place_id=place_id)
    template = ALERT_NOW_HAS if answer.has_agreement else ALERT_NO_LONGER
    url = lookup.place_url(place_id=place_id, language=language)
    with translation.override(language):
        text = str(template) % {"place": answer.place.label, "url": url}
    return clean(text, language=language)


@transaction.atomic
def alert_create_from_flag(*, flag: ReviewFlag, user) -> Alert:
    """Create a draft alert for the flag's place, pre-filled in each subscriber language."""
    if flag.reason != ReviewFlag.Reason.ANSWER_CHANGED or flag.place_id is None:
        raise AlertNotAllowed(_("Alerts are made from a changed 287(g) answer only."))
    existing = Alert.objects.filter(flag=flag).first()
    if existing is not None:
        return existing
    alert = Alert.objects.create(place_id=flag.place_id, flag=flag, created_by=user)
    for language in subscriber_languages(place_id=flag.place_id, before=alert.news_known_at):
        text = AlertText(
            alert=alert,
            language=language,
            body=alert_template_text(place_id=flag.place_id, language=language),
        )
        text._history_user = user
        text.save()
    return alert


def alert_authors(*, alert: Alert) -> set[int]:
    """Return the ids of everyone who wrote the alert or wrote or changed any of its texts.

    Read from the texts' history (every language, deleted texts too), so that changing
    someone else's Spanish text counts as writing the alert.
    """
    ids = {alert.created_by_id}
    ids |= set(
        AlertText.history.filter(alert_id=alert.pk)
        .exclude(history_user=None)
        .values_list("history_user_id", flat=True)
    )
    return {i for i in ids if i is not None}


REVIEWER_GROUP = "Reviewer"


def can_approve_alerts(user) -> bool:
    """Return whether ``user`` may approve alerts others wrote (Reviewers and the operator).

    The Reviewer role carries the permission (migration 0005); membership of the group
    counts too, so a group made by hand without it still works as the role says.
    """
    if not user.is_active:
        return False
    return (
        user.has_perm("assistant.approve_alert") or user.groups.filter(name=REVIEWER_GROUP).exists()
    )


def alert_missing_languages(*, alert: Alert) -> list[str]:
    """Return the subscriber languages for which the alert has no text."""
    written = {text.language for text in alert.texts.all() if text.body and text.body.strip()}
    wanted = subscriber_languages(place_id=alert.place_id, before=alert.news_known_at)
    return [code for code in wanted if code not in written]


@transaction.atomic
def alert_approve(*, alert: Alert, user) -> Alert:
    """Approve the alert and queue its sending; raise AlertNotAllowed with the reason if not.

    The approver must be a Reviewer (or the operator) who neither wrote the alert nor wrote
    or changed any of its texts, and every language its subscribers use must have a text.
    """
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    if alert.status != Alert.Status.DRAFT:
        raise AlertNotAllowed(_("This alert was already approved."))
    if not can_approve_alerts(user):
        raise AlertNotAllowed(_("Only a member of the Reviewer group can approve an alert."))
    if user.pk in alert_authors(alert=alert):
        raise AlertNotAllowed(
            _("You wrote or changed a text of this alert, so someone else must approve it.")
        )
    missing = alert_missing_languages(alert=alert)
    if missing:
        names = ", ".join(str(dict(settings.LANGUAGES).get(code, code)) for code in missing)
        raise AlertNotAllowed(
            _("The alert has no text in: %(languages)s. Subscribers read these languages.")
            % {"languages": names}
        )
    alert.status = Alert.Status.APPROVED
    alert.approved_by = user
    alert.approved_at = timezone.now()
    alert.save(update_fields=["status", "approved_by", "approved_at"])
    alert_send.delay_on_commit(alert.pk)
    return alert


def alert_progress(*, alert: Alert) -> dict:
    """Return how many of the alert's messages are queued, sent, delivered and failed, and
    how many copies were not sent on WhatsApp for want of a template (and in which languages)."""
    Status = OutboundMessage.Status
    counts = dict(
        OutboundMessage.objects.filter(
            pk__in=AlertDelivery.objects.filter(alert=alert).values("message_id")
        )
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    not_sent = AlertDelivery.objects.filter(
        alert=alert, not_sent=AlertDelivery.NotSent.NO_WHATSAPP_TEMPLATE
    )
    return {
        "not_sent": not_sent.count(),
        "not_sent_languages": sorted(set(not_sent.values_list("language", flat=True))),
        "queued": counts.get(Status.QUEUED, 0) + counts.get(Status.SENDING, 0),
        "sent": counts.get(Status.SENT, 0),
        "delivered": counts.get(Status.DELIVERED, 0),
        "failed": counts.get(Status.FAILED, 0) + counts.get(Status.UNDELIVERED, 0),
    }
