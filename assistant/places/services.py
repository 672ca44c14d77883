"""Load states, counties and ZIP codes from packages that ship Census and USPS data."""

import csv
import io
from dataclasses import dataclass
from importlib.resources import files

import addfips
import us
import zipcodes
from django.db import transaction
from django.utils.text import slugify

from assistant.places.models import Place, ZipCodeArea, place_search_key

COUNTY_VINTAGE = "data/counties_2020.csv"
EXTRA_ZIP_COUNTIES = files("assistant.places") / "data" / "zip_county_extra.csv"


@dataclass(frozen=True)
class PlacesLoadReport:
    states: int
    counties: int
    zip_codes: int
    zip_county_pairs: int
    zip_codes_without_county: int


def _state_rows():
    for state in us.states.STATES_AND_TERRITORIES:
        yield state.fips, state.name, state.abbr


def _county_rows():
    text = (files("addfips") / COUNTY_VINTAGE).read_text(encoding="utf-8")
    for row in csv.DictReader(io.StringIO(text)):
        yield row["statefp"] + row["countyfp"], row["name"]


@transaction.atomic
def places_load(*, place_model=None, zip_model=None) -> PlacesLoadReport:
    """Create every state, county and ZIP code that is missing; change nothing that exists.

    The model classes can be passed in so a data migration can use its historical models.
    Each ZIP code gets its USPS primary county (the ``zipcodes`` package); ZIP codes known to
    cross county lines get their other counties from ``assistant/places/data/zip_county_extra.csv``.
    """
    if place_model is None or zip_model is None:
        place_model, zip_model = place_model or Place, zip_model or ZipCodeArea

    existing_states = {p.fips: p for p in place_model.objects.filter(kind="state")}
    new_states = [
        place_model(
            kind="state",
            name=name,
            fips=fips,
            abbreviation=abbr,
            slug=abbr.lower(),
            search_key=place_search_key(name),
        )
        for fips, name, abbr in _state_rows()
        if fips not in existing_states
    ]
    place_model.objects.bulk_create(new_states)
    states = {p.fips: p for p in place_model.objects.filter(kind="state")}

    existing_counties = set(
        place_model.objects.filter(kind="county").values_list("fips", flat=True)
    )
    new_counties = [
        place_model(
            kind="county",
            name=name,
            fips=fips,
            state=states[fips[:2]],
            slug=slugify(name)[:140],
            search_key=place_search_key(name),
        )
        for fips, name in _county_rows()
        if fips[:2] in states and fips not in existing_counties
    ]
    place_model.objects.bulk_create(new_counties)
    counties = {p.fips: p for p in place_model.objects.filter(kind="county")}

    finder = addfips.AddFIPS()
    existing_pairs = set(zip_model.objects.values_list("zip_code", "county__fips"))
    new_areas = []
    without_county = 0
    zip_codes = set()
    for row in zipcodes.list_all():
        fips = None
        if row["county"] and row["state"]:
            fips = finder.get_county_fips(row["county"], row["state"])
        if not fips or fips not in counties:
            without_county += 1
            continue
        zip_codes.add(row["zip_code"])
        if (row["zip_code"], fips) in existing_pairs:
            continue
        existing_pairs.add((row["zip_code"], fips))
        new_areas.append(
            zip_model(
                zip_code=row["zip_code"],
                county=counties[fips],
                city_name=row["city"] or "",
                is_primary=True,
            )
        )
    extra = csv.DictReader(io.StringIO(EXTRA_ZIP_COUNTIES.read_text(encoding="utf-8")))
    for row in extra:
        if row["county_fips"] in counties and (row["zip_code"], row["county_fips"]) not in (
            existing_pairs
        ):
            existing_pairs.add((row["zip_code"], row["county_fips"]))
            new_areas.append(
                zip_model(
                    zip_code=row["zip_code"], county=counties[row["county_fips"]], is_primary=False
                )
            )
    zip_model.objects.bulk_create(new_areas, batch_size=5000)
    return PlacesLoadReport(
        states=len(states),
        counties=len(counties),
        zip_codes=len(zip_codes),
        zip_county_pairs=zip_model.objects.count(),
        zip_codes_without_county=without_county,
    )
