from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from assistant.models.places import Place


class Agency(models.Model):
    """A law-enforcement agency and the place it polices.

    ``place`` is empty while an imported agency is unmatched; ``match_problem`` says why,
    for an organizer to resolve in the admin.
    """

    class Kind(models.TextChoices):
        SHERIFF = "sheriff", _("sheriff's office")
        POLICE = "police", _("police department")
        STATE = "state", _("state agency")
        JAIL = "jail", _("jail or corrections")
        OTHER = "other", _("other agency")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.OTHER)
    state = models.ForeignKey(
        Place,
        verbose_name=_("state"),
        on_delete=models.PROTECT,
        related_name="agencies_in_state",
        limit_choices_to={"kind": "state"},
    )
    place = models.ForeignKey(
        Place,
        verbose_name=_("place it polices"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="agencies",
        help_text=_("The county, city or state this agency polices."),
    )
    ice_name = models.CharField(
        _("name in ICE's list"),
        max_length=255,
        blank=True,
        help_text=_("The name exactly as ICE's spreadsheet spells it (without extra spaces)."),
    )
    match_problem = models.CharField(
        _("why it is not matched"),
        max_length=255,
        blank=True,
        help_text=_("Filled in by the import when it could not tell which place this is."),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        ordering = ["state__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["state", "ice_name"],
                condition=~models.Q(ice_name=""),
                name="agency_ice_name_unique_in_state",
            ),
        ]

    def __str__(self):
        return self.name


class Agreement(models.Model):
    """A 287(g) agreement between one agency and ICE under one model.

    Lifecycle (set by the import of ICE's lists, never by hand-typed answers)::

        pending ──▶ active ──▶ ended
                      ▲          │
                      └──────────┘  (it reappears in a later list)

    Ended agreements are kept with the last date ICE's list showed them.
    """

    class EnforcementModel(models.TextChoices):
        JAIL_ENFORCEMENT = "jail", _("Jail Enforcement Model")
        TASK_FORCE = "task_force", _("Task Force Model")
        WARRANT_SERVICE = "warrant", _("Warrant Service Officer")

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        ACTIVE = "active", _("active")
        ENDED = "ended", _("ended")

    agency = models.ForeignKey(
        Agency, verbose_name=_("agency"), on_delete=models.CASCADE, related_name="agreements"
    )
    enforcement_model = models.CharField(
        _("model"), max_length=12, choices=EnforcementModel.choices
    )
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.ACTIVE
    )
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    signed_on_as_published = models.CharField(
        _("signing date as published"),
        max_length=40,
        blank=True,
        help_text=_("What ICE's list says, kept when it is not a possible date."),
    )
    signed_on_is_invalid = models.BooleanField(_("signing date is impossible"), default=False)
    agreement_url = models.URLField(_("signed agreement (MOA)"), max_length=500, blank=True)
    source_url = models.URLField(_("source"), max_length=500, blank=True)
    source_title = models.CharField(_("source title"), max_length=255, blank=True)
    first_seen_on = models.DateField(_("first seen in ICE's list"), null=True, blank=True)
    last_seen_on = models.DateField(_("last seen in ICE's list"), null=True, blank=True)
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    changed_on = models.DateField(
        _("facts changed on"),
        null=True,
        blank=True,
        help_text=_("When the status, model or signing date last changed."),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("287(g) agreement")
        verbose_name_plural = _("287(g) agreements")
        ordering = ["agency__name", "enforcement_model"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "enforcement_model"], name="agreement_one_per_agency_model"
            ),
        ]

    def __str__(self):
        return f"{self.agency} — {self.get_enforcement_model_display()}"
