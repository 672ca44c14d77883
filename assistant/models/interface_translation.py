from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def _translated_languages():
    return [(code, name) for code, name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


class InterfaceTranslationReview(models.Model):
    """A qualified person's approval of the site's interface translation into one language.

    Until a language has a review, every page in it says, in that language, that no person
    has checked the translation yet. Deleting the review brings the notice back.
    """

    language = models.CharField(
        _("language"), max_length=10, choices=_translated_languages, unique=True
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), auto_now_add=True)
    note = models.TextField(
        _("note"), blank=True, help_text=_("What you checked, or what is still to fix.")
    )

    class Meta:
        verbose_name = _("interface translation review")
        verbose_name_plural = _("interface translation reviews")
        ordering = ["language"]

    def __str__(self):
        return str(self.get_language_display())
