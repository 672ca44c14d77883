import re
import unicodedata

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from assistant import vocabulary

# Words that residents may or may not type after a county's name.
COUNTY_WORDS = (
    "city and borough",
    "census area",
    "municipality",
    "municipio",
    "borough",
    "county",
    "parish",
    "condado de",
    "condado",
    "comte de",
    "comte",
)


def fold_name(text: str) -> str:
    """Return ``text`` lower-cased, without accents or punctuation, spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", text)
    without_marks = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    words = re.sub(r"[^0-9a-z]+", " ", without_marks.casefold())
    return " ".join(words.split())


def place_search_key(name: str) -> str:
    """Return the key a place is found by: its folded name without "County" and the like."""
    key = f" {fold_name(name)} "
    for word in COUNTY_WORDS:
        key = key.replace(f" {word} ", " ")
    key = " ".join(key.split())
    return key or fold_name(name)


class Place(models.Model):
    """A state, a county (or county-equivalent), or a city.

    Counties and cities belong to a state; a city also knows the county it is mostly in.
    """

    class Kind(models.TextChoices):
        STATE = "state", _("state")
        COUNTY = "county", _("county")
        CITY = "city", _("city")

    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=120)
    state = models.ForeignKey(
        "self",
        verbose_name=_("state"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="places_in_state",
        limit_choices_to={"kind": "state"},
    )
    county = models.ForeignKey(
        "self",
        verbose_name=_("county"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cities",
        limit_choices_to={"kind": "county"},
        help_text=_("For a city: the county it is in."),
    )
    fips = models.CharField(
        _("FIPS code"),
        max_length=7,
        blank=True,
        db_index=True,
        help_text=_("Census code: 2 digits for a state, 5 for a county."),
    )
    abbreviation = models.CharField(_("postal abbreviation"), max_length=2, blank=True)
    kind_detail = models.CharField(
        _("kind of county"),
        max_length=40,
        blank=True,
        help_text=_("For a county: what the state calls it (parish, borough, independent city…)."),
    )
    gazetteer_id = models.CharField(
        _("GeoNames id"),
        max_length=12,
        blank=True,
        db_index=True,
        help_text=_("For a city or town: its id in the GeoNames gazetteer."),
    )
    population = models.PositiveIntegerField(_("population"), null=True, blank=True)
    slug = models.SlugField(_("web address name"), max_length=140)
    search_key = models.CharField(max_length=140, db_index=True, editable=False)

    class Meta:
        verbose_name = _("place")
        verbose_name_plural = _("places")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["state", "slug"],
                name="place_slug_unique_in_state",
            ),
            models.UniqueConstraint(
                fields=["slug"],
                condition=models.Q(kind="state"),
                name="state_slug_unique",
            ),
        ]

    def __str__(self):
        if self.kind == self.Kind.STATE:
            return self.name
        return f"{self.name}, {self.state_code}"

    def save(self, *args, **kwargs):
        self.search_key = place_search_key(self.name)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        if self.kind == self.Kind.STATE:
            return reverse("state_detail", kwargs={"state_code": self.abbreviation.lower()})
        return reverse(
            "place_detail", kwargs={"state_code": self.state_code.lower(), "slug": self.slug}
        )

    @property
    def state_code(self) -> str:
        """Return the two-letter postal code of the state this place is in (or is)."""
        if self.kind == self.Kind.STATE:
            return self.abbreviation
        return self.state.abbreviation if self.state_id else ""


class ZipCodeArea(models.Model):
    """One county that a ZIP code reaches. A ZIP that crosses county lines has several."""

    zip_code = models.CharField(_("ZIP code"), max_length=5, db_index=True)
    county = models.ForeignKey(
        Place,
        verbose_name=_("county"),
        on_delete=models.CASCADE,
        related_name="zip_code_areas",
        limit_choices_to={"kind": "county"},
    )
    city_name = models.CharField(_("postal city"), max_length=120, blank=True)
    is_primary = models.BooleanField(
        _("primary county"),
        default=True,
        help_text=_("The county the Postal Service lists first for this ZIP code."),
    )

    class Meta:
        verbose_name = _("ZIP code area")
        verbose_name_plural = _("ZIP code areas")
        ordering = ["zip_code", "-is_primary"]
        constraints = [
            models.UniqueConstraint(fields=["zip_code", "county"], name="zip_county_unique"),
        ]

    def __str__(self):
        return f"{self.zip_code} → {self.county}"


class Agency(models.Model):
    """A law-enforcement agency and the place it polices.

    ``place`` is empty while an imported agency is unmatched; ``match_problem`` says why,
    for an organizer to resolve in the admin (with an alias that holds for every later list).
    An agency over several counties (a regional jail) is placed on the first and lists the
    others in ``other_places``: each of those counties' answers includes it.
    """

    class Kind(models.TextChoices):
        SHERIFF = "sheriff", _("sheriff's office")
        POLICE = "police", _("police department")
        STATE = "state", _("state agency")
        JAIL = "jail", _("jail or corrections")
        CONSTABLE = "constable", _("constable")
        MARSHAL = "marshal", _("marshal's office")
        UNIVERSITY = "university", _("university or college police")
        OTHER = "other", _("other agency")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.OTHER)
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
    other_places = models.ManyToManyField(
        Place,
        verbose_name=_("other counties it polices"),
        blank=True,
        related_name="shared_agencies",
        help_text=_(
            "For an agency over several counties (a regional jail): the counties after the "
            "first. Their answers include it."
        ),
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
        JAIL_ENFORCEMENT = vocabulary.JAIL_ENFORCEMENT, vocabulary.MODEL_NAMES["jail"]
        TASK_FORCE = vocabulary.TASK_FORCE, vocabulary.MODEL_NAMES["task_force"]
        WARRANT_SERVICE = vocabulary.WARRANT_SERVICE, vocabulary.MODEL_NAMES["warrant"]

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
