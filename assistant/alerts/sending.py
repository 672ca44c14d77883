"""Sending an approved alert: one message per subscriber, safe to run again."""

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from assistant.alerts.models import Alert, AlertDelivery
from assistant.delivery.services import outbound_queue_many
from assistant.sms.compose import clean
from assistant.sms.models import Subscription

logger = logging.getLogger(__name__)

SEND_BATCH = 500
# When alert_send last wrote a batch for the alert (a Unix time), for alert_requeue_stale.
ALIVE_KEY = "alerts:alive:{alert_id}"


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
        cache.set(ALIVE_KEY.format(alert_id=alert_id), time.time(), timeout=24 * 60 * 60)
        with transaction.atomic():
            Alert.objects.select_for_update().get(pk=alert_id)
            batch = list(
                Subscription.objects.filter(
                    place_id=alert.place_id, created_at__lt=alert.news_known_at
                )
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
    cache.delete(ALIVE_KEY.format(alert_id=alert_id))
    return queued
