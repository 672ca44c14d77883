"""Forget what we no longer need: the schedule behind ``purge_expired`` (see README.md)."""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from assistant.delivery.models import OutboundMessage
from assistant.delivery.recovery import outbound_expire
from assistant.sms.models import Conversation, InboundMessage

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PurgeReport:
    """How many rows each step deleted or wiped."""

    conversations: int
    inbound: int
    outbound_wiped: int
    outbound_deleted: int
    outbound_expired: int = 0


@transaction.atomic
def purge_expired() -> PurgeReport:
    """Delete expired conversation state, answered inbound records and old outbound rows.

    - conversation state untouched for CONVERSATION_RETENTION_DAYS;
    - inbound records once answered (after INBOUND_DEDUPE_SECONDS: their sid only serves to
      ignore Twilio's retries), and any older than INBOUND_RETENTION_HOURS anyway;
    - outbound recipients and bodies of messages in a final status (delivery wipes them as it
      goes; this catches stragglers), and outbound rows older than OUTBOUND_RETENTION_DAYS;
    - the recipient and body of any outbound message still unfinished
      OUTBOUND_UNSENT_RETENTION_HOURS after it was queued, whatever its state: an unsent one
      can no longer be sent and fails, saying so (``outbound_expire``).
    """
    now = timezone.now()
    conversations, _d = Conversation.objects.filter(
        updated_at__lt=now - timedelta(days=settings.CONVERSATION_RETENTION_DAYS)
    ).delete()
    # Kept a little after they are answered, so that Twilio's retry of a webhook call
    # (it waits up to 15 seconds) is still recognised and not answered twice.
    dedupe_cutoff = now - timedelta(seconds=settings.INBOUND_DEDUPE_SECONDS)
    # A text still waiting for its worker (pending, no reply yet) is not purged early.
    answered = Q(reply_count__gt=0) | ~Q(
        outcome__in=[InboundMessage.Outcome.ANSWERED, InboundMessage.Outcome.PENDING]
    )
    inbound, _d = InboundMessage.objects.filter(
        (answered & Q(received_at__lt=dedupe_cutoff))
        | Q(received_at__lt=now - timedelta(hours=settings.INBOUND_RETENTION_HOURS))
    ).delete()
    outbound_expired = outbound_expire()
    outbound_wiped = outbound_expired + (
        OutboundMessage.objects.filter(status__in=OutboundMessage.FINAL_STATUSES)
        .exclude(recipient_encrypted="", recipient_hash="", body_encrypted="")
        .update(recipient_encrypted="", recipient_hash="", body_encrypted="")
    )
    outbound_deleted, _d = OutboundMessage.objects.filter(
        created_at__lt=now - timedelta(days=settings.OUTBOUND_RETENTION_DAYS)
    ).delete()
    report = PurgeReport(conversations, inbound, outbound_wiped, outbound_deleted, outbound_expired)
    logger.info("purge_expired: %s", report)
    return report
