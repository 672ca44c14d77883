"""Move to a new PHONE_HASH_KEY (see "Rotating PHONE_HASH_KEY" in README.md)."""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from assistant.delivery.models import OptOut, OutboundMessage
from assistant.privacy import decrypt, phone_hash
from assistant.sms.models import Conversation, InboundMessage, Subscription

logger = logging.getLogger(__name__)


class KeyRotationError(Exception):
    """The rotation cannot run; the message says why."""


@dataclass(frozen=True)
class RotationReport:
    conversations_dropped: int
    inbound_dropped: int
    subscriptions_rehashed: int
    opt_outs_rehashed: int
    opt_outs_without_number: int
    outbound_rehashed: int


def _rehash(encrypted: str) -> str | None:
    """Return the hash under the current key of an encrypted number, or None without one."""
    return phone_hash(decrypt(encrypted)) if encrypted else None


@transaction.atomic
def phone_hash_key_rotate(*, old_key: str) -> RotationReport:
    """Re-key everything keyed by the hash under ``old_key``; run once the new key is set.

    Conversation state and inbound records (keyed by the old hash only) are dropped.
    Subscriptions, opt-outs and unsent messages keep the number encrypted, so they are
    re-hashed with the current PHONE_HASH_KEY. An opt-out whose number is not kept (a carrier
    opt-out reported after its message was wiped) keeps its old hash; Twilio blocks that
    number anyway (error 21610).
    """
    if old_key == settings.PHONE_HASH_KEY:
        raise KeyRotationError(
            "The old key is the current PHONE_HASH_KEY: set the new key first, then run this."
        )
    conversations, _d = Conversation.objects.all().delete()
    inbound, _d = InboundMessage.objects.all().delete()

    subscriptions = 0
    for subscription in Subscription.objects.select_for_update().order_by("pk"):
        new_hash = phone_hash(subscription.number())
        if new_hash == subscription.phone_hash:
            continue
        duplicate = Subscription.objects.filter(phone_hash=new_hash, place=subscription.place_id)
        if duplicate.exists():
            subscription.delete()
            continue
        subscription.phone_hash = new_hash
        subscription.save(update_fields=["phone_hash"])
        subscriptions += 1

    opt_outs = without_number = 0
    for opt_out in OptOut.objects.select_for_update().order_by("pk"):
        new_hash = _rehash(opt_out.number_encrypted)
        if new_hash is None:
            without_number += 1
            continue
        if new_hash == opt_out.phone_hash:
            continue
        if OptOut.objects.filter(phone_hash=new_hash).exists():
            opt_out.delete()  # the number said STOP again under the new key
            continue
        opt_out.phone_hash = new_hash
        opt_out.save(update_fields=["phone_hash"])
        opt_outs += 1

    outbound = 0
    pending = OutboundMessage.objects.select_for_update().exclude(recipient_encrypted="")
    for message in pending.exclude(status__in=OutboundMessage.FINAL_STATUSES):
        message.recipient_hash = phone_hash(message.recipient())
        message.save(update_fields=["recipient_hash"])
        outbound += 1

    report = RotationReport(
        conversations, inbound, subscriptions, opt_outs, without_number, outbound
    )
    logger.info("PHONE_HASH_KEY rotated: %s", report)
    return report
