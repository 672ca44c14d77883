from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assistant.privacy import decrypt, encrypt, is_whatsapp, phone_hash


class Conversation(models.Model):
    """Where one resident is in the SMS conversation, found by the keyed hash of the number.

    Only what the bot needs to answer the next message: the language, the place and the
    open menu. DELETE removes the row; ``updated_at`` lets old rows expire.
    """

    phone_hash = models.CharField(_("number (keyed hash)"), max_length=64, unique=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    place = models.ForeignKey(
        "assistant.Place",
        verbose_name=_("place"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    menu = models.CharField(_("open menu"), max_length=16, blank=True)
    choices = models.JSONField(_("places offered"), default=list, blank=True)
    updated_at = models.DateTimeField(_("last message"), auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("SMS conversation")
        verbose_name_plural = _("SMS conversations")

    def __str__(self):
        return f"{self.phone_hash[:8]}…"


class InboundMessage(models.Model):
    """One message Twilio delivered to the webhook, kept to ignore replays of its sid.

    ::

        pending ──▶ answered | opted_out | rate_limited | loop

    The webhook only records it (``pending``, with the number and the body encrypted) and
    hands its id to a worker, which answers a resident's pending messages oldest first. Once
    answered, the number and the body are wiped: only the sid, the keyed hash and the outcome
    stay. A message dropped by the abuse limits keeps no number at all: only its sid and why
    it was dropped, so the drops can be counted.
    """

    class Outcome(models.TextChoices):
        PENDING = "pending", _("queued")
        ANSWERED = "answered", _("answered")
        OPTED_OUT = "opted_out", _("not answered: the number said STOP")
        RATE_LIMITED = "rate_limited", _("dropped: too many replies this hour")
        LOOP = "loop", _("dropped: the same text again and again")

    sid = models.CharField(_("Twilio message sid"), max_length=64, unique=True)
    phone_hash = models.CharField(_("number (keyed hash)"), max_length=64, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=12, choices=Outcome.choices, default=Outcome.ANSWERED
    )
    reply_count = models.PositiveSmallIntegerField(_("replies"), default=0)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True, db_index=True)
    # Only while pending: the worker needs the text to answer and the number to reply to.
    number_encrypted = models.TextField(_("number (encrypted)"), blank=True, default="")
    body_encrypted = models.TextField(_("text (encrypted)"), blank=True, default="")

    class Meta:
        verbose_name = _("inbound SMS")
        verbose_name_plural = _("inbound SMS")
        indexes = [
            # The worker's question: this resident's oldest message not answered yet.
            models.Index(
                fields=["phone_hash", "id"],
                condition=models.Q(outcome="pending"),
                name="inbound_pending_per_number",
            )
        ]

    def __str__(self):
        return self.sid


class Subscription(models.Model):
    """A resident who sent SUBSCRIBE: they get alerts when their place's answer changes.

    Only what sending an alert needs: the number encrypted (to send to), its keyed hash (to
    find the row when they write STOP or DELETE), the place and the language. The row is
    deleted when they unsubscribe, opt out or erase their data.
    """

    class Channel(models.TextChoices):
        SMS = "sms", _("SMS")
        WHATSAPP = "whatsapp", _("WhatsApp")

    number_encrypted = models.TextField(_("number (encrypted)"))
    phone_hash = models.CharField(_("number (keyed hash)"), max_length=64, db_index=True)
    place = models.ForeignKey(
        "assistant.Place",
        verbose_name=_("place"),
        on_delete=models.CASCADE,
        related_name="subscriptions",
    )
    language = models.CharField(_("language"), max_length=8)
    # Alerts go only to news that came after this: the resident already saw the answer then.
    created_at = models.DateTimeField(_("subscribed at"), default=timezone.now, editable=False)
    channel = models.CharField(
        _("channel"), max_length=8, choices=Channel.choices, default=Channel.SMS, db_index=True
    )

    class Meta:
        verbose_name = _("alert subscription")
        verbose_name_plural = _("alert subscriptions")
        constraints = [
            models.UniqueConstraint(
                fields=["phone_hash", "place"], name="subscription_unique_number_place"
            )
        ]

    def __str__(self):
        return f"{self.phone_hash[:8]}… → {self.place}"

    def set_number(self, number: str) -> None:
        """Store ``number`` (or WhatsApp address) encrypted, its keyed hash and its channel."""
        self.number_encrypted = encrypt(number)
        self.phone_hash = phone_hash(number)
        self.channel = self.Channel.WHATSAPP if is_whatsapp(number) else self.Channel.SMS

    def number(self) -> str:
        """Return the number in plain text (only to hand it to the delivery pipeline)."""
        return decrypt(self.number_encrypted)
