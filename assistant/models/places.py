import re
import unicodedata

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

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
