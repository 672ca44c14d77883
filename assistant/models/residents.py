from django.db import models
from django.utils.translation import gettext_lazy as _


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
