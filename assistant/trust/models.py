"""What builds trust between immigrant residents and their police, per agency.

Agency facts (language access, status questions, U and T visa certification, training, laws
that limit work with ICE) are vetted content like guides; forums are meetings organizers post;
mistake reports are what residents tell organizers is wrong. None of them holds a phone number.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from assistant.content.models import PolicyNote, VettedContent
from assistant.places.models import Agency, Place


class AgencyFact(VettedContent):
    """One fact about one agency, with its source and the day someone checked it.

    Goes draft → in review → published like a guide (see ``VettedContent``); one published
    version per agency and topic. "Unknown" is an answer, shown as such. A published fact
    whose ``review_due_on`` has passed is shown as stale until a newer version is published.
    """

    TEXT_FIELDS = ("detail",)

    class Topic(models.TextChoices):
        LANGUAGE_ACCESS = "language_access", _("language access and interpreters")
        STATUS_QUESTIONS = "status_questions", _("asking victims and witnesses about status")
        VISA_CERTIFICATION = "visa_certification", _("who signs U and T visa certifications")
        TRAINING = "training", _("cultural or language training")
        ICE_LIMITS = "ice_limits", _("a law that limits work with ICE")

    class Answer(models.TextChoices):
        YES = "yes", _("yes")
        NO = "no", _("no")
        NO_PUBLIC_POLICY = "no_policy", _("no public policy found")
        UNKNOWN = "unknown", _("unknown")

    agency = models.ForeignKey(
        Agency,
        verbose_name=_("agency"),
        on_delete=models.PROTECT,
        related_name="facts",
        help_text=_("The fact shows on the pages of the places this agency polices."),
    )
    topic = models.CharField(_("topic"), max_length=20, choices=Topic.choices)
    answer = models.CharField(
        _("answer"),
        max_length=10,
        choices=Answer.choices,
        default=Answer.UNKNOWN,
        help_text=_("“Unknown” is shown to residents as unknown, never left blank."),
    )
    detail = models.TextField(
        _("what residents should know"),
        blank=True,
        help_text=_(
            "Plain language. How to get an interpreter; who signs the visa forms; the training; "
            "what the law does."
        ),
    )
    quote = models.TextField(
        _("the agency's written policy, quoted"),
        blank=True,
        help_text=_("Word for word, in the language the agency wrote it."),
    )
    contact = models.CharField(
        _("how to reach them"),
        max_length=200,
        blank=True,
        help_text=_("A number, an office, or what to say, e.g. “ask for Language Line”."),
    )
    policy_note = models.ForeignKey(
        PolicyNote,
        verbose_name=_("policy note"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("For a law that limits work with ICE: the note that explains it."),
    )
    source_url = models.URLField(_("source address (URL)"), max_length=500, blank=True)
    source_title = models.CharField(_("source title"), max_length=300, blank=True)
    verified_on = models.DateField(
        _("verified on"), null=True, blank=True, help_text=_("The day someone checked the fact.")
    )
    review_due_on = models.DateField(
        _("review due on"),
        null=True,
        blank=True,
        help_text=_("After this day the fact is shown as stale. Empty: set on publishing."),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("agency fact")
        verbose_name_plural = _("agency facts")
        ordering = ["agency__name", "topic", "-updated_at"]
        permissions = [("publish_agencyfact", _("Can publish agency facts"))]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "topic"],
                condition=models.Q(status="published"),
                name="agencyfact_one_published_per_topic",
            ),
            models.UniqueConstraint(
                fields=["replaces"],
                condition=models.Q(status__in=["draft", "in_review"]),
                name="agencyfact_one_open_draft_per_version",
            ),
        ]

    def __str__(self):
        return f"{self.agency}: {self.get_topic_display()} ({self.get_status_display()})"


class Forum(models.Model):
    """A public meeting: residents and police, or a know-your-rights session.

    Shown on the pages of its place (a county's also on its cities, a city's also on its
    county) until it starts, in the iCalendar feeds of the place and the state, and sent as a
    reminder two days before to the subscribers who asked for one. Cancelling keeps the row
    so the feeds can say it is cancelled.
    """

    class Kind(models.TextChoices):
        POLICE_MEETING = "police", _("meeting between residents and police")
        KNOW_YOUR_RIGHTS = "rights", _("know-your-rights session")

    class Presence(models.TextChoices):
        YES = "yes", _("yes")
        NO = "no", _("no")
        UNKNOWN = "unknown", _("unknown")

    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("what it is about"), blank=True)
    place = models.ForeignKey(
        Place,
        verbose_name=_("place"),
        on_delete=models.PROTECT,
        related_name="forums",
        limit_choices_to={"kind__in": ["county", "city"]},
        help_text=_("The county or city whose residents it is for."),
    )
    starts_at = models.DateTimeField(_("starts at"), db_index=True)
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default="America/New_York",
        help_text=_("Where it takes place, e.g. America/New_York or America/Chicago."),
    )
    venue = models.CharField(_("place of the meeting"), max_length=200)
    address = models.CharField(_("address"), max_length=300)
    agency = models.ForeignKey(
        Agency,
        verbose_name=_("agency that attends"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="forums",
    )
    languages_interpreted = models.CharField(
        _("languages interpreted"),
        max_length=200,
        blank=True,
        help_text=_("Language codes separated by commas, e.g. “es,ht,zh-hans”."),
    )
    accessibility = models.TextField(
        _("accessibility"), blank=True, help_text=_("Wheelchair access, ASL, childcare …")
    )
    ice_present = models.CharField(
        _("will ICE be there?"), max_length=8, choices=Presence.choices, default=Presence.UNKNOWN
    )
    unit_287g_present = models.CharField(
        _("will the agency's 287(g) unit be there?"),
        max_length=8,
        choices=Presence.choices,
        default=Presence.UNKNOWN,
    )
    is_free = models.BooleanField(_("free"), default=True)
    is_cancelled = models.BooleanField(_("cancelled"), default=False)
    is_demo = models.BooleanField(_("demo content"), default=False)
    source_url = models.URLField(_("announcement (URL)"), max_length=500, blank=True)
    source_title = models.CharField(_("announcement title"), max_length=300, blank=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("posted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("posted at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("public forum")
        verbose_name_plural = _("public forums")
        ordering = ["starts_at"]

    def __str__(self):
        return f"{self.title} ({self.place})"

    @property
    def language_codes(self) -> list[str]:
        """Return the languages interpreted, as codes."""
        return [c.strip() for c in self.languages_interpreted.split(",") if c.strip()]


class ForumReminderOptIn(models.Model):
    """A subscriber who asked for a text two days before each forum for their place.

    Tied to the alert subscription, which holds the encrypted number: when the resident
    unsubscribes, opts out or erases their data, the subscription and this row go.
    """

    subscription = models.OneToOneField(
        "assistant.Subscription",
        verbose_name=_("subscription"),
        on_delete=models.CASCADE,
        related_name="forum_reminders",
    )
    created_at = models.DateTimeField(_("asked at"), auto_now_add=True)

    class Meta:
        verbose_name = _("forum reminder request")
        verbose_name_plural = _("forum reminder requests")

    def __str__(self):
        return str(self.subscription)


class ForumReminderSent(models.Model):
    """The reminder of one forum queued for one subscriber: written once, so sent once."""

    forum = models.ForeignKey(Forum, on_delete=models.CASCADE, related_name="reminders_sent")
    subscription = models.ForeignKey(
        "assistant.Subscription", on_delete=models.CASCADE, related_name="+"
    )
    queued_at = models.DateTimeField(_("queued at"), auto_now_add=True)

    class Meta:
        verbose_name = _("forum reminder sent")
        verbose_name_plural = _("forum reminders sent")
        constraints = [
            models.UniqueConstraint(
                fields=["forum", "subscription"], name="forum_reminder_once_per_subscriber"
            )
        ]

    def __str__(self):
        return f"{self.forum} → {self.subscription_id}"


class MistakeReport(models.Model):
    """A resident's word that something on a place's page is wrong.

    Lifecycle: open ──resolve──▶ resolved. Keeps only the place, the words, the language and
    the channel: never a phone number, an IP address or a name.
    """

    class Channel(models.TextChoices):
        WEB = "web", _("web page")
        SMS = "sms", _("SMS")

    place = models.ForeignKey(
        Place, verbose_name=_("place"), on_delete=models.CASCADE, related_name="mistake_reports"
    )
    text = models.TextField(_("what is wrong"))
    language = models.CharField(_("language"), max_length=10, blank=True)
    channel = models.CharField(_("sent by"), max_length=4, choices=Channel.choices)
    created_at = models.DateTimeField(_("received at"), auto_now_add=True, db_index=True)
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
        verbose_name = _("mistake report")
        verbose_name_plural = _("mistake reports")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.place}: {self.text[:40]}"
