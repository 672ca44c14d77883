"""Importing ICE's 287(g) spreadsheets: the real files, each quirk, the diff, bad input."""

import datetime

import pytest
from django.core.management import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assistant.ice_import.report import ImportReport
from assistant.models import Agency, Agreement, ImportSnapshot, Place, ReviewFlag, UnmatchedRow
from assistant.places.selectors import place_answer
from tests.factories import AgencyFactory, AgreementFactory, place, state
from tests.support.ice_rows import (
    ESSEX_MA,
    HEADERS,
    MAY_PARTICIPATING,
    MAY_PENDING,
    NASSAU_NY,
    PENDING_HEADERS,
    UNPLACEABLE_FL,
    run,
    write,
    xlsx,
)

pytestmark = pytest.mark.django_db


def agreement(state_code, agency_name, model) -> Agreement:
    return Agreement.objects.get(
        agency__state__abbreviation=state_code,
        agency__ice_name=agency_name,
        enforcement_model=model,
    )


def database_state():
    return (
        list(Agreement.objects.order_by("pk").values()),
        list(Agency.objects.order_by("pk").values()),
        Agreement.history.count(),
        ImportSnapshot.objects.count(),
        UnmatchedRow.objects.count(),
        list(ReviewFlag.objects.order_by("pk").values()),
        Place.objects.filter(kind="city").count(),
    )


# The real files -------------------------------------------------------------------------


def test_the_real_may_2025_file_gives_571_active_agreements_and_nassau_shows_both():
    places_before = Place.objects.count()
    output = run(str(MAY_PARTICIPATING), "--pending", str(MAY_PENDING))

    active = Agreement.objects.filter(status=Agreement.Status.ACTIVE)
    assert active.count() == 571
    assert active.filter(enforcement_model="task_force").count() == 275
    assert active.filter(enforcement_model="warrant").count() == 205
    assert active.filter(enforcement_model="jail").count() == 91
    nassau = place_answer(place=place("NY", "Nassau County"))
    assert nassau.has_agreement
    assert sorted((f.agency_name, f.model_label, f.signed_on) for f in nassau.active) == [
        ("Nassau County Police Department", "Task Force Model", datetime.date(2025, 3, 10)),
        ("Nassau County Sheriff's Office", "Warrant Service Officer", datetime.date(2025, 2, 28)),
    ]
    assert "Task Force Model 275" in output
    assert "Warrant Service Officer 205" in output
    assert "Jail Enforcement Model 91" in output
    assert "date from the file name" in output
    # Every row is kept: matched or listed as unmatched with its row number.
    snapshot = ImportSnapshot.objects.get()
    assert len(snapshot.rows) == 571 and len(snapshot.pending_rows) == 92
    report = ImportReport.from_json(snapshot.report)
    assert report.placements.total == 571 + 92
    assert report.agreements_in_list == 571
    # Every row not placed is listed with its reason and row number.
    assert (
        report.placements.unplaced
        == UnmatchedRow.objects.exclude(agency__place__isnull=False).count()
    )
    for entry in report.unplaced:
        assert entry.reason and f"{entry.file} row {entry.row}: {entry.agency}" in output
    # No place is created by an import.
    assert Place.objects.count() == places_before
    # The Virginia row whose date reads "05/082025" keeps what ICE published.
    campbell = agreement("VA", "Campbell County Sheriff's Office", "task_force")
    assert campbell.signed_on is None and campbell.signed_on_is_invalid
    assert campbell.signed_on_as_published == "05/082025"
    # A municipal agency is matched to its city, and the city to its county.
    boca = Agency.objects.get(ice_name="Boca Raton Police Department")
    assert boca.kind == Agency.Kind.POLICE
    assert boca.place.kind == Place.Kind.CITY and boca.place.county.name == "Palm Beach County"
    # A state agency polices the whole state.
    assert Agency.objects.get(ice_name="Texas National Guard").place == state("TX")
    # The Maryland pending row spells the county "Allegancy": the agency name finds it.
    allegany = Agency.objects.get(ice_name="Allegany County Sheriff's Office")
    assert allegany.place == place("MD", "Allegany County")
    assert Agreement.objects.filter(status="pending").count() == 91


# Each quirk, on a small file ------------------------------------------------------------


def test_trailing_spaces_are_ignored_in_names_counties_and_models(tmp_path):
    rows = [
        (
            "TEXAS ",
            "Rusk County Sheriff's Office ",
            "County ",
            "Rusk County  ",
            "Task Force Model ",
            datetime.datetime(2025, 3, 5),
            "link pending ",
        )
    ]
    run(write(tmp_path, "participatingAgencies05162025am.xlsx", xlsx(rows)))
    found = agreement("TX", "Rusk County Sheriff's Office", "task_force")
    assert found.agency.place == place("TX", "Rusk County")
    assert found.agency.kind == Agency.Kind.SHERIFF
    assert found.signed_on == datetime.date(2025, 3, 5)


def test_a_na_county_is_found_from_the_agency_name(tmp_path):
    rows = [
        (
            "FLORIDA",
            "Okeechobee County Sheriff's Office",
            "County",
            "#N/A",
            "Task Force Model",
            datetime.datetime(2025, 3, 17),
            "link",
        ),
        (
            "FLORIDA",
            "Okeechobee Police Department",
            "County",
            "#N/A",
            "Task Force Model",
            datetime.datetime(2025, 3, 17),
            "link",
        ),
    ]
    run(write(tmp_path, "participatingAgencies05162025am.xlsx", xlsx(rows)))
    sheriff = Agency.objects.get(ice_name="Okeechobee County Sheriff's Office")
    assert sheriff.place == place("FL", "Okeechobee County")
    # ICE labels the city police "County": its name says it is the city's.
    police = Agency.objects.get(ice_name="Okeechobee Police Department")
    assert police.place.kind == Place.Kind.CITY
    assert police.place.name == "Okeechobee"
    assert police.place.county == place("FL", "Okeechobee County")


def test_an_impossible_signing_year_keeps_the_row_and_invents_no_date(tmp_path):
    rows = [NASSAU_NY + ("Task Force Model", datetime.datetime(5025, 3, 10), "link")]
    output = run(write(tmp_path, "participatingAgencies05162025am.xlsx", xlsx(rows)))
    found = agreement("NY", "Nassau County Police Department", "task_force")
    assert found.status == Agreement.Status.ACTIVE
    assert found.signed_on is None
    assert found.signed_on_is_invalid
    assert found.signed_on_as_published == "5025-03-10"
    assert "row 2: impossible signing date" in output
    assert place_answer(place=place("NY", "Nassau County")).has_agreement


def test_moa_links_are_kept_when_there_is_one(tmp_path):
    url = "https://www.ice.gov/doclib/287gMOA/nassauCoPoliceDept_TFM_MOA_03.03.2025.pdf"
    raw = "https://www.ice.gov/doclib/287gMOA/UnivFLPDFL_TFM_MOA_041525.pdf"
    signed = datetime.datetime(2025, 3, 10)
    rows = [
        NASSAU_NY + ("Task Force Model", signed, "link"),
        NASSAU_NY + ("Warrant Service Officer", signed, "link"),
        NASSAU_NY + ("Jail Enforcement Model", signed, "link pending"),
        ESSEX_MA + ("Task Force Model", signed, raw),
    ]
    run(
        write(tmp_path, "participatingAgencies05162025am.xlsx", xlsx(rows, links={(0, "MOA"): url}))
    )
    assert agreement("NY", "Nassau County Police Department", "task_force").agreement_url == url
    assert agreement("NY", "Nassau County Police Department", "warrant").agreement_url == ""
    assert agreement("NY", "Nassau County Police Department", "jail").agreement_url == ""
    assert agreement("MA", "Essex County Sheriff's Office", "task_force").agreement_url == raw


def test_columns_are_found_by_name_with_extra_empty_columns_and_an_addendum(tmp_path):
    headers = [
        "",
        "MOA",
        "SIGNED",
        "COUNTY",
        "ADDENDUM",
        "SUPPORT TYPE",
        "TYPE",
        "LAW ENFORCEMENT AGENCY",
        "STATE",
        None,
        None,
    ]
    rows = [
        (
            None,
            "link",
            datetime.datetime(2025, 3, 10),
            "Nassau County ",
            "addendum",
            "Task Force Model",
            "County",
            "Nassau County Police Department",
            "NEW YORK",
        )
    ]
    addendum = "https://www.ice.gov/doclib/287gMOA/addendum.pdf"
    run(
        write(
            tmp_path,
            "participatingAgencies05162025am.xlsx",
            xlsx(rows, headers=headers, links={(0, "ADDENDUM"): addendum}),
        )
    )
    found = agreement("NY", "Nassau County Police Department", "task_force")
    assert found.agency.place == place("NY", "Nassau County")
    assert ImportSnapshot.objects.get().rows[0]["addendum_url"] == addendum


def test_a_csv_with_the_same_headers_imports_the_same_way(tmp_path):
    text = (
        ",".join(HEADERS) + "\n"
        "NEW YORK,Nassau County Police Department,County,Nassau County ,Task Force Model,"
        "03/10/2025,link\n"
        "FLORIDA,Florida Highway Patrol,State Agency,#N/A,Task Force Model,2025-02-07,link\n"
    )
    run(write(tmp_path, "ice.csv", text.encode()), "--as-of", "2025-05-16")
    found = agreement("NY", "Nassau County Police Department", "task_force")
    assert found.signed_on == datetime.date(2025, 3, 10)
    patrol = agreement("FL", "Florida Highway Patrol", "task_force")
    assert patrol.agency.place == state("FL") and patrol.agency.kind == Agency.Kind.STATE
    snapshot = ImportSnapshot.objects.get()
    assert snapshot.as_of == datetime.date(2025, 5, 16)
    assert snapshot.as_of_source == ImportSnapshot.DateSource.OPTION


def test_an_unmatched_row_is_imported_flagged_and_listed_with_its_row_number(tmp_path):
    rows = [
        NASSAU_NY + ("Task Force Model", datetime.datetime(2025, 3, 10), "link"),
        UNPLACEABLE_FL + ("Task Force Model", datetime.datetime(2025, 4, 15), "link"),
    ]
    output = run(write(tmp_path, "participatingAgencies05162025am.xlsx", xlsx(rows)))
    found = agreement("FL", "Xyzzy Police Department", "task_force")
    assert found.status == Agreement.Status.ACTIVE
    assert found.agency.place is None
    assert "Xyzzy" in found.agency.match_problem
    unmatched = UnmatchedRow.objects.get()
    assert (unmatched.row_number, unmatched.agency) == (3, found.agency)
    assert "participating row 3: Xyzzy Police Department" in output
    assert "not placed: 1" in output
    flag = ReviewFlag.objects.get(reason=ReviewFlag.Reason.UNMATCHED_AGENCY)
    assert flag.place == state("FL") and "Xyzzy" in flag.detail


FLAGS = '"assistant_reviewflag"'


def test_many_unplaced_rows_make_one_flag_per_state_written_once(tmp_path):
    # One write per state, whatever the number of rows: one per row copied the flag's
    # growing text each time, and a hostile 49,000-row list took gigabytes and hours.
    rows = [
        ("FLORIDA", f"Xyzzy {index} Police Department", "Municipality", "#N/A")
        + ("Task Force Model", datetime.datetime(2025, 4, 15), "link")
        for index in range(300)
    ]
    with CaptureQueriesContext(connection) as queries:
        run(write(tmp_path, "participatingAgencies05162025am.xlsx", xlsx(rows)))
    flag_writes = [
        q["sql"]
        for q in queries
        if q["sql"].startswith(("INSERT", "UPDATE")) and FLAGS in q["sql"] and "Xyzzy" in q["sql"]
    ]
    # Each flag that names these agencies (not placed; the state's answer changed) is
    # written once.
    assert len(flag_writes) == ReviewFlag.objects.filter(detail__contains="Xyzzy").count()
    flag = ReviewFlag.objects.get(reason=ReviewFlag.Reason.UNMATCHED_AGENCY)
    assert flag.place == state("FL")
    assert len(flag.detail.splitlines()) == 300
    assert "Xyzzy 299 Police Department" in flag.detail
    assert UnmatchedRow.objects.count() == 300
    # The same rows again (a later list) add no line twice.
    run(write(tmp_path, "participatingAgencies05172025am.xlsx", xlsx(rows)))
    flag.refresh_from_db()
    assert len(flag.detail.splitlines()) == 300


def test_an_agency_already_known_by_its_ice_name_is_reused(tmp_path):
    nassau = place("NY", "Nassau County")
    known = AgencyFactory(
        name="Nassau County Police Dept.", ice_name="Nassau County Police Department", place=nassau
    )
    rows = [NASSAU_NY + ("Task Force Model", datetime.datetime(2025, 3, 10), "link")]
    run(write(tmp_path, "participatingAgencies05162025am.xlsx", xlsx(rows)))
    assert Agency.objects.filter(state=nassau.state).count() == 1
    assert agreement("NY", "Nassau County Police Department", "task_force").agency == known


# The diff against the previous import ---------------------------------------------------

FIRST = [
    NASSAU_NY + ("Task Force Model", datetime.datetime(2025, 3, 10), "link"),
    (
        "NEW YORK",
        "Nassau County Sheriff's Office",
        "County",
        "Nassau County",
        "Warrant Service Officer",
        datetime.datetime(2025, 2, 28),
        "link",
    ),
    (
        "NEW YORK",
        "Rensselaer County Sheriff's Office",
        "County",
        "Rensselaer County",
        "Warrant Service Officer",
        datetime.datetime(2019, 1, 1),
        "link",
    ),
    ESSEX_MA + ("Jail Enforcement Model", datetime.datetime(2020, 6, 9), "link"),
]
FIRST_PENDING = [
    ("FLORIDA", "Hialeah Police Department", "Municipality", "#N/A", "Task Force Model"),
    (
        "TEXAS",
        "Denton County Sheriff's Office",
        "County",
        "Denton County",
        "Jail Enforcement Model",
    ),
]
SECOND = [
    # Nassau police: signing date corrected.
    NASSAU_NY + ("Task Force Model", datetime.datetime(2025, 3, 3), "link"),
    (
        "NEW YORK",
        "Nassau County Sheriff's Office",
        "County",
        "Nassau County",
        "Warrant Service Officer",
        datetime.datetime(2025, 2, 28),
        "link",
    ),
    # Rensselaer is gone: ended. Essex changed model. Denton moved from pending to active.
    ESSEX_MA + ("Task Force Model", datetime.datetime(2020, 6, 9), "link"),
    (
        "TEXAS",
        "Denton County Sheriff's Office",
        "County",
        "Denton County",
        "Jail Enforcement Model",
        datetime.datetime(2025, 5, 20),
        "link pending",
    ),
]
SECOND_PENDING = [
    ("FLORIDA", "Hialeah Police Department", "Municipality", "#N/A", "Task Force Model"),
    ("GEORGIA", "Monroe Police Department", "Municipality", "#N/A", "Task Force Model"),
]


def import_first(tmp_path):
    return run(
        write(tmp_path, "participatingAgencies05162025am.xlsx", xlsx(FIRST)),
        "--pending",
        write(
            tmp_path, "pendingAgencies05152025am.xlsx", xlsx(FIRST_PENDING, headers=PENDING_HEADERS)
        ),
    )


def import_second(tmp_path, *extra):
    return run(
        write(tmp_path, "participatingAgencies05302025am.xlsx", xlsx(SECOND)),
        "--pending",
        write(
            tmp_path,
            "pendingAgencies05302025am.xlsx",
            xlsx(SECOND_PENDING, headers=PENDING_HEADERS),
        ),
        *extra,
    )


def test_a_second_file_produces_exactly_the_expected_diff(tmp_path):
    import_first(tmp_path)
    miami_dade_flags = list(
        ReviewFlag.objects.filter(place=place("FL", "Miami-Dade County")).values()
    )
    output = import_second(tmp_path)
    report = ImportReport.from_json(ImportSnapshot.objects.latest().report)
    pairs = {
        key: [(e.agency, e.model) for e in getattr(report.diff, key)]
        for key in ("added", "ended", "changed", "pending_added", "pending_removed")
    }
    assert report.diff.renamed == []
    assert pairs == {
        "added": [("Denton County Sheriff's Office", "Jail Enforcement Model")],
        "ended": [("Rensselaer County Sheriff's Office", "Warrant Service Officer")],
        "changed": [
            ("Nassau County Police Department", "Task Force Model"),
            ("Essex County Sheriff's Office", "Task Force Model"),
        ],
        "pending_added": [("Monroe Police Department", "Task Force Model")],
        "pending_removed": [("Denton County Sheriff's Office", "Jail Enforcement Model")],
    }
    assert [(c.field, c.before, c.after) for c in report.diff.changed] == [
        ("signed_on", "2025-03-10", "2025-03-03"),
        ("model", "Jail Enforcement Model", "Task Force Model"),
    ]
    assert (
        "1 agreements added, 1 ended, 2 changed, 0 agencies renamed; 1 pending added, "
        "1 pending removed" in output
    )
    assert "Active agreements: 4 before + 1 added − 1 ended = 4 active now." in output

    may_16, may_30 = datetime.date(2025, 5, 16), datetime.date(2025, 5, 30)
    ended = agreement("NY", "Rensselaer County Sheriff's Office", "warrant")
    assert (ended.status, ended.last_seen_on, ended.ended_on) == ("ended", may_16, may_30)
    nassau_police = agreement("NY", "Nassau County Police Department", "task_force")
    assert (nassau_police.signed_on, nassau_police.changed_on) == (
        datetime.date(2025, 3, 3),
        may_30,
    )
    assert agreement("NY", "Nassau County Sheriff's Office", "warrant").changed_on == may_16
    essex = Agreement.objects.get(agency__ice_name="Essex County Sheriff's Office")
    assert (essex.enforcement_model, essex.changed_on) == ("task_force", may_30)
    assert agreement("TX", "Denton County Sheriff's Office", "jail").status == "active"

    # The places whose answer changed are flagged, in plain words; the others are not.
    rensselaer = ReviewFlag.objects.get(
        place=place("NY", "Rensselaer County"), reason=ReviewFlag.Reason.ANSWER_CHANGED
    )
    assert (
        "Ended: Rensselaer County Sheriff's Office's Warrant Service Officer" in rensselaer.detail
    )
    assert rensselaer.changed_on == may_30
    nassau_flag = ReviewFlag.objects.get(
        place=place("NY", "Nassau County"), reason="answer_changed"
    )
    assert "now says signed on 2025-03-03" in nassau_flag.detail
    # Hialeah (in Miami-Dade) is pending in both lists: nothing new to review there.
    assert miami_dade_flags
    assert list(ReviewFlag.objects.filter(place=place("FL", "Miami-Dade County")).values()) == (
        miami_dade_flags
    )
    # The resident's answer shows the new facts with the date they changed.
    answer = place_answer(place=place("NY", "Rensselaer County"))
    assert not answer.has_agreement and answer.changed_on == may_30


def test_importing_the_same_files_again_changes_nothing(tmp_path):
    import_first(tmp_path)
    before = database_state()
    output = import_first(tmp_path)
    assert database_state() == before
    assert "nothing changed" in output


def test_a_file_older_than_the_latest_import_is_refused_unless_forced(tmp_path):
    import_second(tmp_path)
    before = database_state()
    with pytest.raises(CommandError, match="older than the latest import"):
        import_first(tmp_path)
    assert database_state() == before
    run(write(tmp_path, "participatingAgencies05162025am.xlsx", xlsx(FIRST)), "--force")
    assert ImportSnapshot.objects.latest().forced
    assert agreement("NY", "Rensselaer County Sheriff's Office", "warrant").status == "active"


def test_a_dry_run_reports_the_changes_and_writes_nothing(tmp_path):
    import_first(tmp_path)
    before = database_state()
    output = import_second(tmp_path, "--dry-run")
    assert "Preview only" in output
    assert "Ended: Rensselaer County Sheriff's Office (New York)" in output
    assert database_state() == before


def test_an_existing_answer_is_not_flagged_when_nothing_about_it_changed(tmp_path):
    AgreementFactory(
        agency=AgencyFactory(
            name="Nassau County Police Department", ice_name="Nassau County Police Department"
        ),
        signed_on=datetime.date(2025, 3, 10),
        agreement_url="https://www.ice.gov/x.pdf",
    )
    rows = [NASSAU_NY + ("Task Force Model", datetime.datetime(2025, 3, 10), "link")]
    run(
        write(
            tmp_path,
            "participatingAgencies05162025am.xlsx",
            xlsx(rows, links={(0, "MOA"): "https://www.ice.gov/x.pdf"}),
        )
    )
    assert not ReviewFlag.objects.filter(place=place("NY", "Nassau County")).exists()


# Bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("participatingAgencies05162025am.xlsx", b"%PDF-1.4 not a sheet", "is not a spreadsheet"),
        ("participatingAgencies05162025am.xlsx", b"", "is empty"),
        ("participatingAgencies05162025am.xlsx", b"PK\x03\x04broken zip", "is not a spreadsheet"),
        ("participatingAgencies05162025am.xlsx", "no-headers", "does not have the columns"),
        ("participatingAgencies05162025am.xlsx", "headers-only", "no agency rows"),
        ("ice.csv", b"name,county\nx,y\n", "does not have the columns"),
    ],
)
def test_bad_input_is_refused_with_a_clear_error_and_nothing_written(tmp_path, name, data, message):
    import_first(tmp_path)
    if data == "no-headers":
        data = xlsx([("Nassau", "x")], headers=["AGENCY", "PLACE"])
    elif data == "headers-only":
        data = xlsx([])
    before = database_state()
    with pytest.raises(CommandError, match=message):
        run(write(tmp_path, name, data), "--as-of", "2025-06-01")
    assert database_state() == before


def test_a_file_without_a_date_in_its_name_needs_one(tmp_path):
    rows = [NASSAU_NY + ("Task Force Model", datetime.datetime(2025, 3, 10), "link")]
    with pytest.raises(CommandError, match="Give the date of the list"):
        run(write(tmp_path, "list.xlsx", xlsx(rows)))
    assert not Agreement.objects.exists()
