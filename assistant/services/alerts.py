"""Alerts to the subscribers of a place whose 287(g) answer changed.

An organizer creates the alert from the import's ANSWER_CHANGED flag (pre-filled in every
language the place's subscribers use), edits it, and a member of the Reviewer group who did
not write it approves it. Sending runs in the ``alert_send`` task, never in a web request:
for each subscriber an AlertDelivery row (unique per alert and subscription) and the
OutboundMessage are written in the same transaction, so a worker that dies mid-alert leaves
either both or neither, and the re-run skips everyone already queued.
"""

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Exists, OuterRef
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from assistant.models import (
    Alert,
    AlertDelivery,
    AlertText,
    OutboundMessage,
    ReviewFlag,
    Subscription,
)
from assistant.services.delivery import outbound_queue_many
from assistant.sms.compose import clean
from assistant.sms.lookup import DbLookup

logger = logging.getLogger(__name__)

REVIEWER_GROUP = "Reviewer"
SEND_BATCH = 500
# When alert_send last wrote a batch for the alert (a Unix time), for alert_requeue_stale.
_ALIVE_KEY = "alerts:alive:{alert_id}"

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


def subscriber_languages(*, place_id: int) -> list[str]:
    """Return the languages the place's subscribers use, in the settings' order."""
    used = set(Subscription.objects.filter(place_id=place_id).values_list("language", flat=True))
    ordered = [code for code, _name in settings.LANGUAGES if code in used]
    return ordered + sorted(used - set(ordered))


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
    AlertText.objects.bulk_create(
        AlertText(
            alert=alert,
            language=language,
            body=alert_template_text(place_id=flag.place_id, language=language),
        )
        for language in subscriber_languages(place_id=flag.place_id)
    )
    return alert


def _is_reviewer(user) -> bool:
    return user.is_active and user.groups.filter(name=REVIEWER_GROUP).exists()


def alert_missing_languages(*, alert: Alert) -> list[str]:
    """Return the subscriber languages for which the alert has no text."""
    written = {text.language for text in alert.texts.all() if text.body and text.body.strip()}
    return [code for code in subscriber_languages(place_id=alert.place_id) if code not in written]


@transaction.atomic
def alert_approve(*, alert: Alert, user) -> Alert:
    """Approve the alert and queue its sending; raise AlertNotAllowed with the reason if not.

    The approver must be in the Reviewer group and must not have written the alert, and
    every language its subscribers use must have a text.
    """
    from assistant.tasks import alert_send

    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    if alert.status != Alert.Status.DRAFT:
        raise AlertNotAllowed(_("This alert was already approved."))
    if not _is_reviewer(user):
        raise AlertNotAllowed(_("Only a member of the Reviewer group can approve an alert."))
    if alert.created_by_id == user.pk:
        raise AlertNotAllowed(_("Someone else must approve the alert you wrote."))
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


def _texts_by_language(alert: Alert) -> dict[str, str]:
    texts = {t.language: t.body.strip() for t in alert.texts.all() if t.body.strip()}
    fallbacks = settings.CONTENT_FALLBACK_LANGUAGES
    resolved = {}
    for code, _name in settings.LANGUAGES:
        for candidate in [code, *fallbacks.get(code, fallbacks["default"])]:
            if candidate in texts:
                resolved[code] = clean(texts[candidate], language=code)
                break
    return resolved


def alert_send(*, alert_id: int) -> int:
    """Queue one message per subscriber not yet queued for alert ``alert_id``; return how many.

    Safe to run again (after a worker died): each batch writes the AlertDelivery rows and
    their messages in one transaction, under a lock on the alert, and skips subscriptions
    that already have a delivery row. A subscriber whose language has no text gets the
    fallback language's text (see CONTENT_FALLBACK_LANGUAGES).
    """
    alert = Alert.objects.filter(pk=alert_id).first()
    if alert is None or alert.status not in (Alert.Status.APPROVED, Alert.Status.SENDING):
        return 0
    Alert.objects.filter(pk=alert_id, status=Alert.Status.APPROVED).update(
        status=Alert.Status.SENDING
    )
    texts = _texts_by_language(alert)
    queued = 0
    while True:
        cache.set(_ALIVE_KEY.format(alert_id=alert_id), time.time(), timeout=24 * 60 * 60)
        with transaction.atomic():
            Alert.objects.select_for_update().get(pk=alert_id)
            batch = list(
                Subscription.objects.filter(place_id=alert.place_id)
                .exclude(
                    Exists(
                        AlertDelivery.objects.filter(alert_id=alert_id, subscription=OuterRef("pk"))
                    )
                )
                .order_by("pk")[:SEND_BATCH]
            )
            if not batch:
                break
            messages = outbound_queue_many(
                messages=[
                    (
                        subscription.number(),
                        texts.get(subscription.language)
                        or texts.get("en")
                        or next(iter(texts.values())),
                        subscription.language,
                    )
                    for subscription in batch
                ],
                purpose="alert",
            )
            # Same transaction as the messages: after a crash both exist or neither does.
            AlertDelivery.objects.bulk_create(
                AlertDelivery(alert_id=alert_id, subscription=subscription, message=message)
                for subscription, message in zip(batch, messages, strict=True)
            )
            queued += len(batch)
        logger.info("Alert %s: %d message(s) queued so far.", alert_id, queued)
    Alert.objects.filter(pk=alert_id).update(status=Alert.Status.SENT, finished_at=timezone.now())
    cache.delete(_ALIVE_KEY.format(alert_id=alert_id))
    return queued


def alert_requeue_stale(*, older_than: timedelta = timedelta(seconds=60)) -> int:
    """Enqueue ``alert_send`` again for every approved alert that stopped being queued.

    A worker killed outright (SIGKILL of the whole worker) takes the task with it until the
    broker's visibility timeout (hours). An alert still approved or sending whose last batch
    was written longer than ``older_than`` ago is sent again; the run skips everyone
    already queued, so nobody gets a second copy. Return how many alerts were re-queued.
    """
    from assistant.tasks import alert_send as alert_send_task

    now = time.time()
    requeued = 0
    for alert_id, approved_at in Alert.objects.filter(
        status__in=[Alert.Status.APPROVED, Alert.Status.SENDING]
    ).values_list("pk", "approved_at"):
        last = cache.get(_ALIVE_KEY.format(alert_id=alert_id))
        if last is None:
            last = approved_at.timestamp() if approved_at else 0
        if now - last > older_than.total_seconds():
            alert_send_task.apply_async(args=[alert_id])
            cache.set(_ALIVE_KEY.format(alert_id=alert_id), now, timeout=24 * 60 * 60)
            requeued += 1
    if requeued:
        logger.info("Re-queued %d alert(s) whose sending had stopped.", requeued)
    return requeued


def alert_progress(*, alert: Alert) -> dict[str, int]:
    """Return how many of the alert's messages are queued, sent, delivered and failed."""
    Status = OutboundMessage.Status
    counts = dict(
        OutboundMessage.objects.filter(
            pk__in=AlertDelivery.objects.filter(alert=alert).values("message_id")
        )
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return {
        "queued": counts.get(Status.QUEUED, 0) + counts.get(Status.SENDING, 0),
        "sent": counts.get(Status.SENT, 0),
        "delivered": counts.get(Status.DELIVERED, 0),
        "failed": counts.get(Status.FAILED, 0) + counts.get(Status.UNDELIVERED, 0),
    }
