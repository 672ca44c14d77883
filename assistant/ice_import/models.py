from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class ImportSnapshot(models.Model):
    """One import of ICE's 287(g) lists, kept as read so the next import can be compared to it.

    A snapshot is written only when an import is applied; a dry run (the admin preview, or
    ``--dry-run``) writes nothing. ``report`` holds what the organizer saw: rows read, counts
    by model and by state, matched and unmatched rows, and the changes against the previous
    snapshot.
    """

    class DateSource(models.TextChoices):
        FILE_NAME = "file_name", _("the file name")
        OPTION = "option", _("the date given by the organizer")

    file_name = models.CharField(_("participating agencies file"), max_length=255)
    file_sha256 = models.CharField(_("fingerprint of the rows read (SHA-256)"), max_length=64)
    pending_file_name = models.CharField(_("pending agencies file"), max_length=255, blank=True)
    pending_sha256 = models.CharField(
        _("fingerprint of the pending rows read (SHA-256)"), max_length=64, blank=True
    )
    as_of = models.DateField(_("date of the list"))
    as_of_source = models.CharField(_("date taken from"), max_length=10, choices=DateSource.choices)
    rows = models.JSONField(_("participating rows as read"), default=list)
    pending_rows = models.JSONField(_("pending rows as read"), default=list)
    report = models.JSONField(_("import report"), default=dict)
    forced = models.BooleanField(
        _("older file imported on purpose"),
        default=False,
        help_text=_("The organizer imported a file older than the latest one."),
    )
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("imported by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("ICE list import")
        verbose_name_plural = _("ICE list imports")
        ordering = ["-imported_at"]
        get_latest_by = "imported_at"

    def __str__(self):
        return f"{self.file_name} ({self.as_of:%Y-%m-%d})"


class UnmatchedRow(models.Model):
    """A row of ICE's list whose agency could not be tied to a place; an organizer resolves it."""

    class File(models.TextChoices):
        PARTICIPATING = "participating", _("participating agencies")
        PENDING = "pending", _("pending agencies")

    snapshot = models.ForeignKey(
        ImportSnapshot,
        verbose_name=_("import"),
        on_delete=models.CASCADE,
        related_name="unmatched_rows",
    )
    file = models.CharField(_("file"), max_length=13, choices=File.choices)
    row_number = models.PositiveIntegerField(_("row number in the file"))
    agency = models.ForeignKey(
        "assistant.Agency",
        verbose_name=_("agency"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="unmatched_rows",
    )
    agency_name = models.CharField(_("agency name in the file"), max_length=255)
    state_name = models.CharField(_("state in the file"), max_length=60, blank=True)
    county_name = models.CharField(_("COUNTY column in the file"), max_length=120, blank=True)
    reason = models.CharField(_("why it is not matched"), max_length=500)

    class Meta:
        verbose_name = _("unmatched row")
        verbose_name_plural = _("unmatched rows")
        ordering = ["snapshot", "file", "row_number"]

    def __str__(self):
        return f"{self.get_file_display()} row {self.row_number}: {self.agency_name}"


class AgencyAlias(models.Model):
    """An organizer's word on a row of ICE's list: "this text means this place".

    Made once (from an unplaced row of an import), it holds for every later list: the matcher
    reads it before its own rules (``matching.AliasTarget``). ``ice_text`` is the agency name
    as ICE spells it (or the COUNTY cell); it is compared folded (case, accents, punctuation).
    For an agency over several counties, ``place`` is the first and ``other_places`` the rest.
    """

    state = models.ForeignKey(
        "assistant.Place",
        verbose_name=_("state"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": "state"},
    )
    ice_text = models.CharField(
        _("text in ICE's list"),
        max_length=255,
        help_text=_("The agency name exactly as ICE's list spells it."),
    )
    place = models.ForeignKey(
        "assistant.Place",
        verbose_name=_("place it means"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The state, county or city this agency polices."),
    )
    other_places = models.ManyToManyField(
        "assistant.Place",
        verbose_name=_("other counties it polices"),
        blank=True,
        related_name="+",
        limit_choices_to={"kind": "county"},
    )
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("place for an agency name")
        verbose_name_plural = _("places for agency names")
        ordering = ["state__name", "ice_text"]
        constraints = [
            models.UniqueConstraint(fields=["state", "ice_text"], name="alias_unique_in_state"),
        ]

    def __str__(self):
        return f"{self.ice_text} → {self.place}"


class FetchCheck(models.Model):
    """One look at ICE's 287(g) page by ``fetch_287g``, kept even when nothing was new.

    The public pages say when ICE's list was last checked from the newest successful check.
    """

    class Outcome(models.TextChoices):
        NOTHING_NEW = "nothing_new", _("nothing new")
        APPLIED = "applied", _("new list applied")
        HELD = "held", _("new list held for an organizer")
        ERROR = "error", _("error")

    checked_at = models.DateTimeField(_("checked at"), auto_now_add=True, db_index=True)
    page_url = models.URLField(_("ICE's page"), max_length=500)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices)
    error = models.CharField(_("error"), max_length=1000, blank=True)
    files = models.JSONField(_("lists downloaded"), default=list)

    class Meta:
        verbose_name = _("check of ICE's page")
        verbose_name_plural = _("checks of ICE's page")
        ordering = ["-checked_at"]

    def __str__(self):
        return f"{self.checked_at:%Y-%m-%d %H:%M} {self.get_outcome_display()}"


class FetchedFile(models.Model):
    """A list downloaded from ICE, by the SHA-256 of its bytes: never downloaded as new again."""

    name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(_("SHA-256 of the file"), max_length=64, unique=True)
    fetched_at = models.DateTimeField(_("fetched at"), auto_now_add=True)

    class Meta:
        verbose_name = _("list fetched from ICE")
        verbose_name_plural = _("lists fetched from ICE")
        ordering = ["-fetched_at"]

    def __str__(self):
        return self.name


class HeldList(models.Model):
    """A list that failed the quality gate: kept for an organizer to decide.

    Fetched from ICE by ``fetch_287g``, or uploaded by an organizer in the admin (who then
    sees the warnings and confirms, or not). A held list changes nothing (it ends no
    agreement) until an organizer applies it::

        held ──▶ applied | rejected
    """

    class Decision(models.TextChoices):
        HELD = "held", _("held")
        APPLIED = "applied", _("applied")
        REJECTED = "rejected", _("rejected")

    class Source(models.TextChoices):
        FETCHED = "fetched", _("fetched from ICE's page")
        UPLOADED = "uploaded", _("uploaded by an organizer")

    file_name = models.CharField(_("participating agencies file"), max_length=255)
    data = models.BinaryField(_("participating file"))
    pending_file_name = models.CharField(_("pending agencies file"), max_length=255, blank=True)
    pending_data = models.BinaryField(_("pending file"), blank=True, default=b"")
    as_of = models.DateField(_("date of the list"))
    rows_read = models.PositiveIntegerField(_("rows read"), default=0)
    reasons = models.JSONField(_("why it is held"), default=list)
    codes = models.JSONField(_("reason codes"), default=list)
    fetched_at = models.DateTimeField(_("received at"), auto_now_add=True)
    source = models.CharField(
        _("where it came from"), max_length=8, choices=Source.choices, default=Source.FETCHED
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decision = models.CharField(
        _("decision"), max_length=10, choices=Decision.choices, default=Decision.HELD
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    snapshot = models.ForeignKey(
        ImportSnapshot,
        verbose_name=_("import"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("held ICE list")
        verbose_name_plural = _("held ICE lists")
        ordering = ["-fetched_at"]

    def __str__(self):
        return f"{self.file_name} ({self.get_decision_display()})"
