from django.db import models
from django.utils.translation import gettext_lazy as _

from assistant.privacy import decrypt, encrypt, phone_hash


class OutboundMessage(models.Model):
    """One SMS we send: a reply or an alert, from the moment it is queued to its last status.

    ::

        queued ──▶ sending ──▶ sent ──▶ delivered
           │          │          ├────▶ undelivered
           │          │          └────▶ failed
           └──────────┴───────────────▶ failed   (opted out, permanent error, retries or
                                                  look-ups used up, expired unsent)

    The status only moves forward: a late "sent" callback after "delivered" changes nothing,
    and the three final statuses never change. ``sending`` means an attempt has started and
    may have reached Twilio; until its outcome is known (``outcome_unknown``) the message is
    looked up at Twilio before it is ever sent again, so a worker killed between Twilio
    accepting the message and the sid being saved does not send it twice. ``lookups`` and
    ``rate_limits`` count those look-ups and the attempts Twilio refused as too fast; both
    are bounded, so no message stays ``sending``.

    A message ``sent`` that gets no final status is asked about at Twilio after a while and
    closed with Twilio's answer; when Twilio cannot say, it is closed as it is (``finished_at``
    set, the reason in ``last_error_message``): it stays ``sent`` and is no longer followed.

    The recipient is kept only encrypted (and as a keyed hash, for opt-out checks), the body
    only encrypted; all three are wiped when the message reaches a final status, is closed,
    or is still unfinished after OUTBOUND_UNSENT_RETENTION_HOURS (unsent, it then fails).
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        DELIVERED = "delivered", _("delivered")
        UNDELIVERED = "undelivered", _("undelivered")
        FAILED = "failed", _("failed")

    class Channel(models.TextChoices):
        API = "api", _("sent through the SMS provider's API")
        TWIML = "twiml", _("answered directly in the webhook reply (broker down)")

    # The purpose of a reply to a text: replies to one number leave in order (see sending).
    REPLY = "reply"
    FINAL_STATUSES = frozenset({Status.DELIVERED, Status.UNDELIVERED, Status.FAILED})
    STATUS_RANK = {
        Status.QUEUED: 0,
        Status.SENDING: 1,
        Status.SENT: 2,
        Status.DELIVERED: 3,
        Status.UNDELIVERED: 3,
        Status.FAILED: 3,
    }

    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    channel = models.CharField(
        _("channel"), max_length=8, choices=Channel.choices, default=Channel.API
    )
    recipient_encrypted = models.TextField(_("recipient (encrypted)"), blank=True, default="")
    recipient_hash = models.CharField(
        _("recipient (keyed hash)"), max_length=64, blank=True, default="", db_index=True
    )
    body_encrypted = models.TextField(_("text (encrypted)"), blank=True, default="")
    sender = models.CharField(
        _("sender"),
        max_length=64,
        blank=True,
        default="",
        help_text=_("Our number or messaging service. Pacing is counted per sender."),
    )
    content_sid = models.CharField(
        _("WhatsApp template"),
        max_length=34,
        blank=True,
        default="",
        help_text=_(
            "The approved template (ContentSid) an alert is sent as outside WhatsApp's "
            "24-hour window; the encrypted text then holds its variables."
        ),
    )
    purpose = models.CharField(_("purpose"), max_length=32, default="reply")
    language = models.CharField(_("language"), max_length=16, blank=True, default="")
    segments = models.PositiveSmallIntegerField(_("segments"), default=0)
    encoding = models.CharField(_("encoding"), max_length=8, blank=True, default="")
    twilio_sid = models.CharField(
        _("Twilio sid"), max_length=64, unique=True, null=True, blank=True, default=None
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    rate_limits = models.PositiveSmallIntegerField(_("refused as too fast"), default=0)
    lookups = models.PositiveSmallIntegerField(_("look-ups at Twilio"), default=0)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    outcome_unknown = models.BooleanField(
        _("outcome of the last attempt unknown"),
        default=False,
        help_text=_("Twilio may have accepted it; look it up before sending again."),
    )
    last_error_code = models.IntegerField(_("last error code"), null=True, blank=True)
    last_error_message = models.CharField(_("last error"), max_length=255, blank=True, default="")
    created_at = models.DateTimeField(_("queued at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbound message")
        verbose_name_plural = _("outbound messages")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "updated_at"], name="outbound_status_updated")]

    def __str__(self):
        return f"#{self.pk} {self.get_status_display()}"

    @property
    def is_final(self) -> bool:
        """Return True when the status can no longer change."""
        return self.status in self.FINAL_STATUSES

    def set_recipient(self, number: str) -> None:
        """Store ``number`` encrypted, and its keyed hash for opt-out checks."""
        self.recipient_encrypted = encrypt(number)
        self.recipient_hash = phone_hash(number)

    def recipient(self) -> str:
        """Return the recipient's number in plain text (only to hand it to the provider)."""
        return decrypt(self.recipient_encrypted) if self.recipient_encrypted else ""

    def set_body(self, text: str) -> None:
        """Store the text encrypted."""
        self.body_encrypted = encrypt(text)

    def body(self) -> str:
        """Return the text in plain text (only to hand it to the provider)."""
        return decrypt(self.body_encrypted) if self.body_encrypted else ""

    def wipe_personal_data(self) -> None:
        """Forget the recipient and the text; called when the message is finished with."""
        self.recipient_encrypted = ""
        self.recipient_hash = ""
        self.body_encrypted = ""


class OptOut(models.Model):
    """A number that said STOP (or that Twilio reported as opted out, error 21610).

    Nothing is sent to it until it says START. Look-ups use the keyed hash; the number is
    also kept encrypted, only so that the opt-out survives a change of PHONE_HASH_KEY
    (``manage.py rotate_phone_hash_key`` re-hashes it). See "What we store" in README.md.
    """

    class Source(models.TextChoices):
        KEYWORD = "keyword", _("resident sent STOP")
        CARRIER = "carrier", _("Twilio reported the number opted out")

    phone_hash = models.CharField(_("number (keyed hash)"), max_length=64, unique=True)
    number_encrypted = models.TextField(
        _("number (encrypted)"),
        blank=True,
        default="",
        help_text=_("Kept only to re-hash the opt-out when the hash key changes."),
    )
    source = models.CharField(_("how"), max_length=8, choices=Source.choices)
    created_at = models.DateTimeField(_("since"), auto_now_add=True)

    class Meta:
        verbose_name = _("opt-out")
        verbose_name_plural = _("opt-outs")

    def __str__(self):
        return f"{self.phone_hash[:8]}…"


class EarlyStatus(models.Model):
    """A status Twilio reported for a sid not saved yet, while Redis could not keep it.

    Twilio may call back before the worker has saved the sid Twilio gave it. Such a status
    is kept in Redis until the sid is saved; while Redis is down it is kept here instead,
    and the stranded-work task applies it once the sid is saved (``outbound_early_apply``).
    One whose sid never comes (not ours) is deleted after a while. A sid and a status only:
    no number, no text.
    """

    # Not in the admin, nor shown anywhere: no verbose names to translate.
    sid = models.CharField(max_length=64, db_index=True)
    status = models.CharField(max_length=16)
    error_code = models.PositiveIntegerField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self):
        return f"{self.sid}: {self.status}"
