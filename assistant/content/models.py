"""Resident-facing content that organizers write, vet and translate.

Every piece of content (a place's guide, a policy note, a local help organization) is vetted
the same way, so the lifecycle lives in one abstract model, :class:`VettedContent`.
"""

import hashlib

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from assistant.places.models import Place


def text_fingerprint(text: str | None) -> str:
    """Return a short fingerprint of ``text``, to notice later that it changed."""
    return hashlib.sha256((text or "").strip().encode()).hexdigest()[:16]


class TranslationState(models.TextChoices):
    """How far one language's translation of one text can be trusted."""

    REVIEWED = "reviewed", _("reviewed")
    UNREVIEWED = "unreviewed", _("not reviewed yet")
    STALE = "stale", _("stale: the English text changed since")
    MISSING = "missing", _("missing")


class VettedContent(models.Model):
    """Content that the public sees only once a Reviewer has published it.

    Lifecycle (one row per version; the services in ``assistant.content.services`` move it)::

        draft ──submit──▶ in review ──publish──▶ published ──(newer one published)──▶ retired
          ▲                   │
          └───send back───────┘

    Editing published content starts a new draft with ``replaces`` pointing at the published
    version, which stays public until the draft is published in its place.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        IN_REVIEW = "in_review", _("in review")
        PUBLISHED = "published", _("published")
        RETIRED = "retired", _("replaced by a newer version")

    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    replaces = models.ForeignKey(
        "self",
        verbose_name=_("replaces"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The published version this draft will replace once it is published."),
    )
    is_demo = models.BooleanField(
        _("demo content"),
        default=False,
        help_text=_("Example content for trying the site. Pages say it is a demo."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("written by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    last_edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("last edited by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("sent for review at"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    # Translated text fields, in the order residents read them; set by each subclass.
    TEXT_FIELDS: tuple[str, ...] = ()

    class Meta:
        abstract = True

    @property
    def is_public(self) -> bool:
        """Return whether residents can see this version."""
        return self.status == self.Status.PUBLISHED


class Guide(VettedContent):
    """A place's guide: what 287(g) means here, how to report a crime safely, your rights.

    Whether an agency here has a 287(g) agreement is never typed here: the pages compute it
    from the agreements (``selectors.places.place_answer``); the guide gives the context.
    """

    TEXT_FIELDS = (
        "meaning_here",
        "reporting",
        "immigration_status_policy",
        "interpreters",
        "visa_certification",
        "your_rights",
    )

    place = models.ForeignKey(
        Place,
        verbose_name=_("place"),
        on_delete=models.PROTECT,
        related_name="guides",
        help_text=_("A county or a city. A city without its own guide shows its county's."),
    )
    meaning_here = models.TextField(
        _("what 287(g) means here"),
        blank=True,
        help_text=_("Plain language: short sentences, say “you”, the answer first."),
    )
    reporting = models.TextField(
        _("how to report a crime"),
        blank=True,
        help_text=_("What happens when you call or report online."),
    )
    immigration_status_policy = models.TextField(
        _("does the agency ask about immigration status?"),
        blank=True,
        help_text=_("What the agency itself says, with a source."),
    )
    interpreters = models.TextField(_("interpreters and language line"), blank=True)
    visa_certification = models.TextField(_("who certifies U visa and T visa forms"), blank=True)
    your_rights = models.TextField(_("your rights"), blank=True)
    emergency_number = models.CharField(_("emergency number"), max_length=20, default="911")
    non_emergency_number = models.CharField(_("non-emergency number"), max_length=40, blank=True)
    online_report_url = models.URLField(_("online crime report"), max_length=500, blank=True)
    language_line_number = models.CharField(
        _("interpreter or language line number"), max_length=40, blank=True
    )
    last_verified_on = models.DateField(
        _("last verified on"),
        null=True,
        blank=True,
        help_text=_("The day someone last checked every fact against its sources."),
    )
    review_due_on = models.DateField(
        _("review due on"),
        null=True,
        blank=True,
        help_text=_("When the facts must be checked again."),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("guide")
        verbose_name_plural = _("guides")
        ordering = ["place__name", "-updated_at"]
        permissions = [("publish_guide", _("Can publish guides"))]
        constraints = [
            models.UniqueConstraint(
                fields=["place"],
                condition=models.Q(status="published"),
                name="guide_one_published_per_place",
            ),
            models.UniqueConstraint(
                fields=["replaces"],
                condition=models.Q(status__in=["draft", "in_review"]),
                name="guide_one_open_draft_per_version",
            ),
        ]

    def __str__(self):
        return f"{self.place} ({self.get_status_display()})"


class PolicyNote(VettedContent):
    """A state or local law or policy, shown on the pages of every place it governs.

    A note on a state shows on every county and city in it; a note on a county shows on its
    cities too.
    """

    TEXT_FIELDS = ("title", "body")

    places = models.ManyToManyField(
        Place,
        verbose_name=_("places it governs"),
        related_name="policy_notes",
        help_text=_(
            "A state's note also shows on its counties and cities; a county's on its cities."
        ),
    )
    key = models.SlugField(
        _("short name"),
        max_length=80,
        help_text=_("Stays the same across versions, e.g. “ca-sb54”."),
    )
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("what it means for you"))
    history = HistoricalRecords(m2m_fields=[places])

    class Meta:
        verbose_name = _("policy note")
        verbose_name_plural = _("policy notes")
        ordering = ["key", "-updated_at"]
        permissions = [("publish_policynote", _("Can publish policy notes"))]
        constraints = [
            models.UniqueConstraint(
                fields=["key"],
                condition=models.Q(status="published"),
                name="policynote_one_published_per_key",
            ),
        ]

    def __str__(self):
        return f"{self.title} ({self.get_status_display()})"


class HelpOrganization(VettedContent):
    """A local organization residents can call for help, tied to the places it serves."""

    TEXT_FIELDS = ("description", "hours")

    key = models.SlugField(_("short name"), max_length=80)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("how they help"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    hours = models.CharField(_("hours"), max_length=200, blank=True)
    languages_spoken = models.CharField(
        _("languages spoken"),
        max_length=200,
        blank=True,
        help_text=_("Language codes separated by commas, e.g. “en,es,ht”."),
    )
    website = models.URLField(_("website"), max_length=500, blank=True)
    places = models.ManyToManyField(
        Place, verbose_name=_("places served"), related_name="help_organizations"
    )
    history = HistoricalRecords(m2m_fields=[places])

    class Meta:
        verbose_name = _("help organization")
        verbose_name_plural = _("help organizations")
        ordering = ["name"]
        permissions = [("publish_helporganization", _("Can publish help organizations"))]
        constraints = [
            models.UniqueConstraint(
                fields=["key"],
                condition=models.Q(status="published"),
                name="helporganization_one_published_per_key",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.get_status_display()})"

    @property
    def language_codes(self) -> list[str]:
        """Return the languages spoken, as codes."""
        return [code.strip() for code in self.languages_spoken.split(",") if code.strip()]


class Source(models.Model):
    """A public page that backs a fact: its address, title and the day it was read."""

    class Section(models.TextChoices):
        WHOLE = "", _("the whole text")
        MEANING_HERE = "meaning_here", _("what 287(g) means here")
        REPORTING = "reporting", _("how to report a crime")
        IMMIGRATION_STATUS = "immigration_status_policy", _("immigration status")
        INTERPRETERS = "interpreters", _("interpreters")
        VISA = "visa_certification", _("U and T visas")
        RIGHTS = "your_rights", _("your rights")

    guide = models.ForeignKey(
        Guide,
        verbose_name=_("guide"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sources",
    )
    policy_note = models.ForeignKey(
        PolicyNote,
        verbose_name=_("policy note"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sources",
    )
    help_organization = models.ForeignKey(
        HelpOrganization,
        verbose_name=_("help organization"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sources",
    )
    section = models.CharField(
        _("backs"), max_length=30, choices=Section.choices, blank=True, default=""
    )
    url = models.URLField(_("address (URL)"), max_length=500)
    title = models.CharField(_("title"), max_length=300)
    accessed_on = models.DateField(_("read on"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("source")
        verbose_name_plural = _("sources")
        ordering = ["section", "title"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(guide__isnull=False, policy_note__isnull=True)
                    & models.Q(help_organization__isnull=True)
                )
                | (
                    models.Q(guide__isnull=True, policy_note__isnull=False)
                    & models.Q(help_organization__isnull=True)
                )
                | (
                    models.Q(guide__isnull=True, policy_note__isnull=True)
                    & models.Q(help_organization__isnull=False)
                ),
                name="source_backs_exactly_one_thing",
            ),
        ]

    def __str__(self):
        return self.title


class TranslationRecord(models.Model):
    """What we know about one language's translation of one piece of content.

    ``source_fingerprints`` holds, per text field, the fingerprint of the source (English)
    text the translation was written or approved against; when the source changes the
    translation is *stale*. ``reviewed_fingerprints`` holds, per field, the fingerprint of
    the translated text a Translator approved; a translation edited since is *unreviewed*.
    """

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    content_object = GenericForeignKey("content_type", "object_id")
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    source_fingerprints = models.JSONField(default=dict, blank=True)
    reviewed_fingerprints = models.JSONField(default=dict, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    machine_translated = models.BooleanField(_("machine translation"), default=False)

    class Meta:
        verbose_name = _("translation check")
        verbose_name_plural = _("translation checks")
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id", "language"],
                name="translation_record_unique",
            ),
        ]

    def __str__(self):
        return f"{self.content_type.model} {self.object_id} [{self.language}]"


class TranslatorLanguage(models.Model):
    """A language a Translator may edit and approve."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("translator"),
        on_delete=models.CASCADE,
        related_name="translator_languages",
    )
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)

    class Meta:
        verbose_name = _("translator language")
        verbose_name_plural = _("translator languages")
        ordering = ["user__username", "language"]
        constraints = [
            models.UniqueConstraint(fields=["user", "language"], name="translator_language_once"),
        ]

    def __str__(self):
        return f"{self.user} — {self.get_language_display()}"


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
    resolved_at = models.DateTimeField(_("dealt with at"), null=True, blank=True)
    resolution_note = models.CharField(
        _("how it was dealt with"),
        max_length=200,
        blank=True,
        help_text=_("A few words for the next organizer, e.g. “guide checked, no change”."),
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("dealt with by"),
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
