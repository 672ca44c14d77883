from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from assistant.sms.models import Subscription


class Alert(models.Model):
    """A message to every subscriber of a place, written by one organizer, approved by another.

    ::

        draft ──approve──▶ approved ──task starts──▶ sending ──all queued──▶ sent

    Approval needs a member of the Reviewer group who did not write it, and a text for every
    language the place's subscribers use. Sending happens in the ``alert_send`` task.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        APPROVED = "approved", _("approved, waiting to be sent")
        SENDING = "sending", _("sending")
        SENT = "sent", _("every message queued")

    place = models.ForeignKey(
        "assistant.Place", verbose_name=_("place"), on_delete=models.PROTECT, related_name="+"
    )
    flag = models.ForeignKey(
        "assistant.ReviewFlag",
        verbose_name=_("review flag"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="alerts",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("written by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("written at"), auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("all queued at"), null=True, blank=True)

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-created_at"]
        permissions = [("approve_alert", _("Can approve alerts written by others"))]

    def __str__(self):
        return f"{self.place} ({self.get_status_display()})"

    @property
    def news_known_at(self):
        """Return when the site's answer changed (the import found it): who subscribed later
        already read the new answer and gets no alert about it."""
        return self.flag.created_at if self.flag_id else self.created_at


class AlertText(models.Model):
    """The alert's text in one language; organizers edit it before approval."""

    alert = models.ForeignKey(
        Alert, verbose_name=_("alert"), on_delete=models.CASCADE, related_name="texts"
    )
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    body = models.TextField(_("text"), blank=True)
    # Who wrote or changed each text, and when: the two-person rule reads it
    # (``alert_authors``). The text itself stays in this table only, like every message text.
    history = HistoricalRecords(excluded_fields=["body"])

    class Meta:
        verbose_name = _("alert text")
        verbose_name_plural = _("alert texts")
        ordering = ["alert", "language"]
        constraints = [
            models.UniqueConstraint(fields=["alert", "language"], name="alert_text_unique_language")
        ]

    def __str__(self):
        return str(self.get_language_display())


class AlertDelivery(models.Model):
    """That one subscriber's copy of an alert was queued: written before it is queued, once.

    The unique (alert, subscription) pair is what makes a re-run of ``alert_send`` (after a
    worker died mid-alert) skip everyone already queued. A copy that could not be sent has no
    message and says why in ``not_sent``: WhatsApp outside its 24-hour window takes only an
    approved template, and none is configured for the subscriber's language.
    """

    class NotSent(models.TextChoices):
        SENT = "", _("queued")
        NO_WHATSAPP_TEMPLATE = (
            "no_template",
            _(
                "not sent: WhatsApp subscriber outside the 24-hour window, and no approved "
                "template for their language (TWILIO_WHATSAPP_ALERT_TEMPLATES)"
            ),
        )

    alert = models.ForeignKey(
        Alert, verbose_name=_("alert"), on_delete=models.CASCADE, related_name="deliveries"
    )
    subscription = models.ForeignKey(
        Subscription,
        verbose_name=_("subscription"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    message = models.ForeignKey(
        "assistant.OutboundMessage",
        verbose_name=_("message"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    not_sent = models.CharField(
        _("not sent because"), max_length=12, blank=True, default="", choices=NotSent.choices
    )
    language = models.CharField(_("language"), max_length=8, blank=True, default="")

    class Meta:
        verbose_name = _("alert delivery")
        verbose_name_plural = _("alert deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["alert", "subscription"], name="alert_delivery_once_per_subscription"
            )
        ]

    def __str__(self):
        return f"{self.alert_id}/{self.subscription_id}"
