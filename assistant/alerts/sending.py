"""Sending an approved alert: one message per subscriber, safe to run again."""

import json
import logging
import time
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from assistant.alerts.models import Alert, AlertDelivery
from assistant.delivery.services import outbound_queue_many
from assistant.sms.compose import WHATSAPP, channel_override, clean
from assistant.sms.lookup import DbLookup
from assistant.sms.models import Conversation, Subscription

logger = logging.getLogger(__name__)

SEND_BATCH = 500
# When alert_send last wrote a batch for the alert (a Unix time), for alert_requeue_stale.
ALIVE_KEY = "alerts:alive:{alert_id}"
# WhatsApp takes free-form messages only within 24 hours of the resident's last message. An
# hour is kept back for the time the message may wait in the queue.
WHATSAPP_WINDOW = timedelta(hours=23)


def _whatsapp_window_open(hashes: list[str]) -> set[str]:
    """Return the hashes, among ``hashes``, of residents who wrote within WhatsApp's window.

    The conversation's last change is the last message it answered (DELETE removes it, and
    then the window counts as closed: the safe side).
    """
    if not hashes:
        return set()
    since = timezone.now() - WHATSAPP_WINDOW
    return set(
        Conversation.objects.filter(phone_hash__in=hashes, updated_at__gte=since).values_list(
            "phone_hash", flat=True
        )
    )


def _template_variables(alert: Alert, variables: list[str], text: str, language: str) -> str:
    """Return the template's variables as Twilio's ContentVariables JSON ({"1": …, "2": …})."""
    values = {
        "place": str(alert.place),
        # WhatsApp refuses a variable with a line break, a tab or four spaces in a row.
        "text": " ".join(text.split()),
        "url": DbLookup().place_url(place_id=alert.place_id, language=language),
    }
    return json.dumps(
        {str(number): values[name] for number, name in enumerate(variables, 1)},
        ensure_ascii=False,
    )


def _message_for(alert: Alert, subscription: Subscription, text: str, window_open: set[str]):
    """Return (to, body, language[, content_sid]) for one subscriber, or None for no message."""
    number = subscription.number()
    language = subscription.language
    if subscription.channel != Subscription.Channel.WHATSAPP:
        return (number, text, language)
    if subscription.phone_hash in window_open:
        return (number, text, language)
    template = settings.TWILIO_WHATSAPP_ALERT_TEMPLATES.get(language)
    if not template:
        return None
    body = _template_variables(alert, template.get("variables", []), text, language)
    return (number, body, language, template["content_sid"])


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
    # WhatsApp has no segments to save: its texts keep their accents.
    with channel_override(WHATSAPP):
        whatsapp_texts = _texts_by_language(alert)
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
            window_open = _whatsapp_window_open(
                [s.phone_hash for s in batch if s.channel == Subscription.Channel.WHATSAPP]
            )
            planned = []
            for subscription in batch:
                chosen = whatsapp_texts if subscription.channel == WHATSAPP else texts
                text = (
                    chosen.get(subscription.language)
                    or chosen.get("en")
                    or next(iter(chosen.values()))
                )
                planned.append(_message_for(alert, subscription, text, window_open))
            messages = iter(
                outbound_queue_many(messages=[m for m in planned if m], purpose="alert")
            )
            # Same transaction as the messages: after a crash both exist or neither does.
            AlertDelivery.objects.bulk_create(
                AlertDelivery(
                    alert_id=alert_id,
                    subscription=subscription,
                    message=next(messages) if plan else None,
                    not_sent="" if plan else AlertDelivery.NotSent.NO_WHATSAPP_TEMPLATE,
                    language=subscription.language,
                )
                for subscription, plan in zip(batch, planned, strict=True)
            )
            queued += len(batch)
        logger.info("Alert %s: %d message(s) queued so far.", alert_id, queued)
    Alert.objects.filter(pk=alert_id).update(status=Alert.Status.SENT, finished_at=timezone.now())
    cache.delete(ALIVE_KEY.format(alert_id=alert_id))
    return queued
