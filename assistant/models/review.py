from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ReviewFlag(models.Model):
    """Something about a place that an organizer must look at, e.g. its 287(g) answer changed.

    Open while ``resolved_at`` is empty; the organizer start page lists the open ones.
    """

    class Reason(models.TextChoices):
        ANSWER_CHANGED = "answer_changed", _("287(g) answer changed")
        AGREEMENTS_CHANGED = "agreements_changed", _("agreements changed")
        REVIEW_DUE = "review_due", _("review is due")
        UNMATCHED_AGENCY = "unmatched_agency", _("agency in ICE's list not matched")

    place = models.ForeignKey(
        "assistant.Place",
        verbose_name=_("place"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="review_flags",
    )
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    detail = models.TextField(_("what changed"), blank=True)
    changed_on = models.DateField(_("changed on"), null=True, blank=True)
    created_at = models.DateTimeField(_("flagged at"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("review flag")
        verbose_name_plural = _("review flags")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.place}: {self.get_reason_display()}"
