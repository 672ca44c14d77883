from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from assistant.voice.prompts import RECORDED


class VoiceLanguage(models.Model):
    """A language the voice line offers, in the order its keypad menu lists them.

    With a Twilio ``<Say>`` language the line synthesises its prompts from the interface
    catalogs; without one it plays organizers' reviewed recordings (Haitian Creole, Mam …).
    """

    code = models.SlugField(_("language code"), max_length=16, unique=True)
    name = models.CharField(_("name in the language itself"), max_length=60)
    say_language = models.CharField(
        _("Twilio <Say> language"),
        max_length=16,
        blank=True,
        help_text=_("Empty: Twilio cannot speak it, and the line plays recordings."),
    )
    say_voice = models.CharField(_("Twilio <Say> voice"), max_length=40, blank=True)
    position = models.PositiveSmallIntegerField(_("position in the menu"), default=0)
    active = models.BooleanField(_("offered"), default=True)

    class Meta:
        verbose_name = _("voice line language")
        verbose_name_plural = _("voice line languages")
        ordering = ["position", "code"]

    def __str__(self):
        return self.name

    @property
    def synthesised(self) -> bool:
        """Return True when Twilio speaks this language (no recordings needed)."""
        return bool(self.say_language)


class VoiceRecording(models.Model):
    """One prompt or answer recorded by an organizer, played only once a Reviewer approved it.

    ::

        uploaded ──a Reviewer who did not upload it approves──▶ reviewed (played)
           ▲                                                       │
           └──────────────── a new file is uploaded ◀─────────────┘
    """

    PROMPTS = list(RECORDED.items())

    language = models.ForeignKey(
        VoiceLanguage,
        verbose_name=_("language"),
        on_delete=models.CASCADE,
        related_name="recordings",
    )
    prompt = models.CharField(_("prompt"), max_length=20, choices=PROMPTS)
    audio = models.BinaryField(_("audio"), editable=False)
    content_type = models.CharField(_("audio type"), max_length=40, default="audio/mpeg")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("voice recording")
        verbose_name_plural = _("voice recordings")
        ordering = ["language", "prompt"]
        permissions = [("review_voicerecording", _("Can approve voice recordings"))]
        constraints = [
            models.UniqueConstraint(
                fields=["language", "prompt"], name="voice_recording_one_per_prompt"
            )
        ]

    def __str__(self):
        return f"{self.language} · {self.get_prompt_display()}"

    @property
    def reviewed(self) -> bool:
        """Return True when a Reviewer approved this file (only then is it played)."""
        return self.reviewed_at is not None

    def public_url(self) -> str:
        """Return the address Twilio fetches the audio from (reviewed recordings only)."""
        return settings.PUBLIC_BASE_URL + reverse("voice_recording", args=[self.pk])


class CallCount(models.Model):
    """How many calls reached a step, per day and language: all a call leaves behind.

    No caller number is kept, hashed or not, and no call sid.
    """

    day = models.DateField(_("day"))
    language = models.CharField(_("language"), max_length=16, blank=True)
    step = models.CharField(_("step"), max_length=20)
    count = models.PositiveIntegerField(_("calls"), default=0)

    class Meta:
        verbose_name = _("voice line count")
        verbose_name_plural = _("voice line counts")
        ordering = ["-day", "language", "step"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "language", "step"], name="call_count_one_per_day_step"
            )
        ]

    def __str__(self):
        return f"{self.day} {self.language} {self.step}: {self.count}"
