"""Places loaded from the packages: states, counties, ZIP codes, and finding them."""

import pytest

from assistant.models import Place, ZipCodeArea
from assistant.places.selectors import counties_for_zip, places_for_query
from assistant.places.services import places_load

pytestmark = pytest.mark.django_db


def test_migrations_load_every_state_county_and_zip():
    assert Place.objects.filter(kind="state").count() == 56  # 50 states, DC, 5 territories
    assert Place.objects.filter(kind="county").count() > 3200
    assert ZipCodeArea.objects.values("zip_code").distinct().count() > 40000


def test_loading_again_changes_nothing():
    before = (Place.objects.count(), ZipCodeArea.objects.count())
    places_load()
    assert (Place.objects.count(), ZipCodeArea.objects.count()) == before


@pytest.mark.parametrize(
    ("zip_code", "county", "state"),
    [
        ("11501", "Nassau County", "NY"),
        ("87501", "Santa Fe County", "NM"),
        ("33130", "Miami-Dade County", "FL"),
    ],
)
def test_zip_code_finds_its_county(zip_code, county, state):
    [place] = counties_for_zip(zip_code=zip_code)
    assert (place.name, place.state_code) == (county, state)


def test_a_zip_that_crosses_county_lines_lists_every_county():
    places = counties_for_zip(zip_code="11040")
    assert [p.name for p in places] == ["Nassau County", "Queens County"]


@pytest.mark.parametrize("query", ["Nassau County, NY", "nassau county, new york", " 11501 "])
def test_query_finds_a_county_with_the_word_county_or_its_zip(query):
    places = places_for_query(query=query)
    assert [str(p) for p in places] == ["Nassau County, NY"]


def test_a_county_name_without_county_offers_the_county_first_then_the_small_town():
    # The village of Nassau, NY (1,100 people) shares the name: both are offered.
    assert [str(p) for p in places_for_query(query="NASSAU, ny")] == [
        "Nassau County, NY",
        "Nassau, NY",
    ]


def test_a_name_shared_by_several_counties_returns_them_all():
    names = [str(p) for p in places_for_query(query="Nassau")]
    assert names[:2] == ["Nassau County, FL", "Nassau County, NY"]
    assert set(names[2:]) == {"Nassau, NY", "Nassau, DE"}


def test_accents_are_optional():
    assert [str(p) for p in places_for_query(query="Dona Ana")][0] == "Doña Ana County, NM"
    assert [str(p) for p in places_for_query(query="doña ana county")] == ["Doña Ana County, NM"]


def test_unknown_and_empty_queries_find_nothing():
    assert places_for_query(query="") == []
    assert places_for_query(query="99999") == []
    assert places_for_query(query="<script>alert(1)</script>" * 200) == []
