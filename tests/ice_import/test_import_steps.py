"""The import's steps one by one, and the import on ICE's real bundled lists.

read (within bounds) → match (the database's places and organizers' aliases) → plan (pure) →
apply → flag (set-wise) → report (a dataclass kept as JSON).
"""

import datetime
import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse

from assistant.ice_import.bounds import SheetTooLarge
from assistant.ice_import.report import ImportReport
from assistant.ice_import.selectors import match_index
from assistant.ice_import.services import (
    ACTIVE,
    ENDED,
    PENDING_STATUS,
    Facts,
    agency_alias_create,
    import_plan,
    lists_read,
    rows_match,
)
from assistant.ice_import.sheets import SheetFile, read_sheet
from assistant.models import Agency, Agreement, ImportSnapshot, Place, ReviewFlag
from assistant.places.models import fold_name
from assistant.places.selectors import place_answer
from tests.factories import UserFactory, place, state
from tests.support.ice_rows import NASSAU_NY, UNPLACEABLE_FL, run, write, xlsx

HISTORY = Path(__file__).resolve().parents[2] / "assistant/ice_import/data/ice-287g/history"
NEWEST = HISTORY / "participatingAgencies07182025pm.xlsx"
NEWEST_PENDING = HISTORY / "pendingAgencies07182025pm.xlsx"
SIGNED = datetime.datetime(2025, 3, 10)


# Step 1: read, within bounds -------------------------------------------------------------


def test_read_refuses_a_file_beyond_the_bounds_before_parsing_it():
    data = xlsx([NASSAU_NY + ("Task Force Model", SIGNED, "link")])
    with override_settings(ICE_SHEET_MAX_BYTES=len(data) - 1):
        with pytest.raises(SheetTooLarge, match="too large to read: the file size"):
            lists_read(participating=SheetFile("participatingAgencies05162025am.xlsx", data))


@pytest.mark.django_db
def test_the_command_refuses_a_file_beyond_the_bounds_and_writes_nothing(tmp_path):
    rows = [NASSAU_NY + ("Task Force Model", SIGNED, "link")] * 30
    path = write(tmp_path, "participatingAgencies05162025am.xlsx", xlsx(rows))
    with override_settings(ICE_SHEET_MAX_ROWS=10):
        with pytest.raises(CommandError, match="too large to read: the number of rows"):
            run(path)
    assert not Agreement.objects.exists() and not ImportSnapshot.objects.exists()


@pytest.mark.django_db
def test_the_admin_upload_refuses_a_file_beyond_the_bounds(client, admin_login):
    admin_login(client, UserFactory(is_superuser=True))
    rows = [NASSAU_NY + ("Task Force Model", SIGNED, "link")] * 30
    upload = SimpleUploadedFile("participatingAgencies05162025am.xlsx", xlsx(rows))
    with override_settings(ICE_SHEET_MAX_ROWS=10):
        page = client.post(
            reverse("admin:assistant_importsnapshot_upload"),
            {"action": "preview", "participating": upload},
        )
    assert page.status_code == 200
    assert "too large to read: the number of rows" in page.content.decode()
    assert not ImportSnapshot.objects.exists()


# Step 2: match against the database ------------------------------------------------------


@pytest.mark.django_db
def test_rows_are_matched_on_the_databases_places_never_creating_one():
    lists = lists_read(participating=SheetFile(NEWEST.name, NEWEST.read_bytes()))
    index, ids = match_index()
    before = Place.objects.count()
    matched = rows_match(lists=lists, index=index, place_ids=ids)
    assert Place.objects.count() == before
    assert len(matched) == len(lists.rows)
    by_agency = {m.row.agency: m for m in matched}
    vegas = by_agency["Las Vegas Metropolitan Police Department"]
    assert vegas.place_id == place("NV", "Clark County").pk
    assert by_agency["Arkansas State Police Department"].place_id == state("AR").pk
    hopewell = by_agency["Hopewell County Sheriff's Office"]
    assert Place.objects.get(pk=hopewell.place_id).kind_detail == "independent city"
    # A city agency goes on the city Place loaded from the gazetteer.
    bunnell = Place.objects.get(pk=by_agency["Bunnell Police Department"].place_id)
    assert (bunnell.kind, bunnell.county.name) == ("city", "Flagler County")
    # Every row placed, or unplaced with a reason.
    for item in matched:
        assert item.place_id is not None or item.placement.reason


# Step 3: plan (pure) ---------------------------------------------------------------------


def test_plan_a_respelled_agency_is_renamed_not_ended_and_added():
    before = {("FL", "indialantic police department", "task_force"): Facts(ACTIVE)}
    active = {("FL", "indiatlantic police department", "task_force"): Facts(ACTIVE)}
    plan = import_plan(
        before=before,
        active=active,
        pending=None,
        known_agencies={("FL", "indialantic police department")},
    )
    assert plan.renamed == {
        ("FL", "indiatlantic police department"): ("FL", "indialantic police department")
    }
    assert plan.added == [] and plan.ended == []
    assert plan.seen == [("FL", "indialantic police department", "task_force")]


def test_plan_different_agencies_are_not_taken_for_a_rename():
    before = {("FL", "alachua county sheriffs office", "task_force"): Facts(ACTIVE)}
    active = {("FL", "marion county sheriffs office", "task_force"): Facts(ACTIVE)}
    plan = import_plan(
        before=before,
        active=active,
        pending=None,
        known_agencies={("FL", "alachua county sheriffs office")},
    )
    assert plan.renamed == {}
    assert plan.added == [("FL", "marion county sheriffs office", "task_force")]
    assert plan.ended == [("FL", "alachua county sheriffs office", "task_force")]


def test_plan_dates_models_and_pending():
    signed = datetime.date(2025, 3, 10)
    before = {
        ("NY", "a", "task_force"): Facts(ACTIVE, signed),
        ("MA", "b", "jail"): Facts(ACTIVE),
        ("TX", "c", "jail"): Facts(PENDING_STATUS),
        ("NY", "d", "warrant"): Facts(ENDED),
    }
    active = {
        ("NY", "a", "task_force"): Facts(ACTIVE, datetime.date(2025, 3, 3)),
        ("MA", "b", "task_force"): Facts(ACTIVE),
        ("TX", "c", "jail"): Facts(ACTIVE),
        ("NY", "d", "warrant"): Facts(ACTIVE),
    }
    pending = {("GA", "e", "task_force"): Facts(PENDING_STATUS)}
    plan = import_plan(
        before=before, active=active, pending=pending, known_agencies={k[:2] for k in before}
    )
    assert plan.changed_date == [("NY", "a", "task_force")]
    assert plan.changed_model == {("MA", "b", "task_force"): ("MA", "b", "jail")}
    assert plan.added == [("NY", "d", "warrant"), ("TX", "c", "jail")]
    assert plan.pending_added == [("GA", "e", "task_force")]
    assert plan.pending_removed == [("TX", "c", "jail")]


# Apply, flag, report ---------------------------------------------------------------------

INDIALANTIC = ("FLORIDA", "Indialantic Police Department", "Municipality", "Brevard County")
INDIATLANTIC = ("FLORIDA", "Indiatlantic Police Department", "Municipality", "Brevard County")


@pytest.mark.django_db
def test_an_agency_respelled_by_ice_is_one_renamed_row(tmp_path):
    run(
        write(
            tmp_path,
            "participatingAgencies05162025am.xlsx",
            xlsx([INDIALANTIC + ("Task Force Model", SIGNED, "link")]),
        )
    )
    agency = Agency.objects.get()
    output = run(
        write(
            tmp_path,
            "participatingAgencies05302025am.xlsx",
            xlsx([INDIATLANTIC + ("Task Force Model", SIGNED, "link")]),
        )
    )
    report = ImportReport.from_json(ImportSnapshot.objects.latest().report)
    assert [(r.before, r.after) for r in report.diff.renamed] == [
        ("Indialantic Police Department", "Indiatlantic Police Department")
    ]
    assert report.diff.ended == [] and report.diff.added == [] and report.unplaced == []
    assert "Renamed: Indialantic Police Department → Indiatlantic Police Department" in output
    agency.refresh_from_db()
    assert Agency.objects.get() == agency and agency.ice_name == INDIATLANTIC[1]
    kept = Agreement.objects.get()
    assert (kept.status, kept.first_seen_on) == ("active", datetime.date(2025, 5, 16))
    assert agency.place.name == "Indialantic"


@pytest.mark.django_db
def test_an_organizers_alias_placed_once_holds_for_the_next_list(tmp_path):
    rows = [UNPLACEABLE_FL + ("Task Force Model", SIGNED, "link")]
    run(write(tmp_path, "participatingAgencies05162025am.xlsx", xlsx(rows)))
    agency = Agency.objects.get()
    assert agency.place is None
    miami_dade = place("FL", "Miami-Dade County")
    assert not place_answer(place=miami_dade).has_agreement
    agency_alias_create(state=state("FL"), ice_text=UNPLACEABLE_FL[1], place=miami_dade)
    agency.refresh_from_db()
    assert agency.place == miami_dade and place_answer(place=miami_dade).has_agreement
    assert ReviewFlag.objects.filter(place=miami_dade, reason="answer_changed").exists()

    places = Place.objects.count()
    output = run(write(tmp_path, "participatingAgencies05302025am.xlsx", xlsx(rows)))
    report = ImportReport.from_json(ImportSnapshot.objects.latest().report)
    assert (report.placements.alias, report.placements.unplaced) == (1, 0)
    assert "by an organizer's alias: 1" in output
    agency.refresh_from_db()
    assert agency.place == miami_dade and Place.objects.count() == places


@pytest.mark.django_db
def test_a_regional_agency_over_two_counties_answers_in_both(tmp_path):
    rows = [
        (
            "FLORIDA",
            "Sarasota Manatee Airport Authority Police Department",
            "Municipality",
            "#N/A",
            "Task Force Model",
            SIGNED,
            "link",
        )
    ]
    run(write(tmp_path, "participatingAgencies05162025am.xlsx", xlsx(rows)))
    for name in ("Manatee County", "Sarasota County"):
        county = place("FL", name)
        answer = place_answer(place=county)
        assert [f.scope for f in answer.active] == ["here"], name
        assert ReviewFlag.objects.filter(place=county, reason="answer_changed").exists()
        city = Place.objects.filter(kind="city", county=county).first()
        assert [f.scope for f in place_answer(place=city).active] == ["county"]


@pytest.mark.django_db
def test_a_safelink_moa_is_unwrapped_to_the_document(tmp_path):
    target = "https://www.ice.gov/doclib/287gMOA/x.pdf"
    safelink = (
        "https://gcc02.safelinks.protection.outlook.com/?url="
        "https%3A%2F%2Fwww.ice.gov%2Fdoclib%2F287gMOA%2Fx.pdf&data=someone%40ice.dhs.gov"
    )
    rows = [NASSAU_NY + ("Task Force Model", SIGNED, "link")]
    run(
        write(
            tmp_path,
            "participatingAgencies05162025am.xlsx",
            xlsx(rows, links={(0, "MOA"): safelink}),
        )
    )
    assert Agreement.objects.get().agreement_url == target


@pytest.mark.django_db
def test_two_lists_under_one_name_the_second_is_the_newer_list_of_that_day(tmp_path):
    name = "participatingAgencies05162025am.xlsx"
    run(write(tmp_path, name, xlsx([NASSAU_NY + ("Task Force Model", SIGNED, "link")])))
    other = [
        NASSAU_NY + ("Task Force Model", SIGNED, "link"),
        NASSAU_NY + ("Warrant Service Officer", SIGNED, "link"),
    ]
    output = run(write(tmp_path, name, xlsx(other)))
    latest = ImportSnapshot.objects.latest()
    report = ImportReport.from_json(latest.report)
    assert report.newer_of_day and report.published_as == name
    assert latest.file_name == "participatingAgencies05162025am_b.xlsx"
    assert "imported as the newer list of that day" in output
    assert len(report.diff.added) == 1
    assert Agreement.objects.filter(status="active").count() == 2


@pytest.mark.django_db
def test_the_report_is_a_dataclass_kept_as_json():
    lists = ImportReport(file_name="x.xlsx", as_of="2025-05-16", as_of_source="file_name")
    lists.placements.exact = 3
    again = ImportReport.from_json(lists.to_json())
    assert again == lists and again.placements.total == 3


# The real bundled lists ------------------------------------------------------------------


@pytest.mark.django_db
def test_the_newest_real_list_places_every_row_where_residents_look():
    places = Place.objects.count()
    output = run(str(NEWEST), "--pending", str(NEWEST_PENDING))
    assert Place.objects.count() == places
    report = ImportReport.from_json(ImportSnapshot.objects.get().report)
    assert report.placements.total == report.rows_read + report.pending_rows_read
    assert report.agreements_in_list == report.rows_read - report.duplicate_rows
    assert report.active_now == report.agreements_in_list
    assert report.placements.spelling > 0 and "read as" in output
    for entry in report.unplaced:
        assert entry.reason

    def has(place_):
        return place_answer(place=place_).has_agreement

    assert has(place("NV", "Clark County"))
    las_vegas = Place.objects.get(kind="city", name="Las Vegas", state=state("NV"))
    assert has(las_vegas)
    arkansas = place_answer(place=state("AR"))
    assert "Arkansas State Police Department" in {f.agency_name for f in arkansas.active}
    assert has(place("AR", "Pulaski County"))  # a state agency answers in every county
    for code, county in [
        ("MI", "Berrien County"),
        ("PA", "Allegheny County"),
        ("AL", "Franklin County"),
        ("FL", "Flagler County"),
        ("TX", "Lampasas County"),
        ("SC", "McCormick County"),
        ("VA", "Hopewell city"),
    ]:
        assert has(place(code, county)), county

    # No county with a County-type agreement answers "no".
    rows = read_sheet(SheetFile(NEWEST.name, NEWEST.read_bytes()))
    county_typed = {
        (r.state.lower(), fold_name(r.agency)) for r in rows if r.type.strip().lower() == "county"
    }
    checked = 0
    for agency in Agency.objects.select_related("place", "state"):
        if (agency.state.name.lower(), fold_name(agency.ice_name)) in county_typed:
            assert agency.place is not None or agency.match_problem, agency.name
            if agency.place is not None:
                assert has(agency.place), agency.name
                checked += 1
    assert checked > 400
    # Unplaced rows raise the review flag.
    if report.placements.unplaced:
        assert ReviewFlag.objects.filter(reason="unmatched_agency").exists()


@pytest.mark.django_db
def test_history_replay_equals_importing_only_the_newest(tmp_path):
    def active_set():
        # An agency is known by its folded name: ICE writes "Sheriff's" and "Sheriff’s".
        return {
            (code, fold_name(name), model)
            for code, name, model in Agreement.objects.filter(status="active").values_list(
                "agency__state__abbreviation", "agency__ice_name", "enforcement_model"
            )
        }

    out = io.StringIO()
    call_command("import_287g", "--history", str(HISTORY), stdout=out)
    output = out.getvalue()
    assert "History imported in" in output
    assert ImportSnapshot.objects.count() == 24
    replayed = active_set()
    # Every list's counts add up: active before + added − ended = active now.
    for snapshot in ImportSnapshot.objects.all():
        report = ImportReport.from_json(snapshot.report)
        assert (
            report.active_before + len(report.diff.added) - len(report.diff.ended)
            == report.active_now
        ), snapshot.file_name
        assert report.placements.total == report.rows_read + report.pending_rows_read
    first_seen = Agreement.objects.filter(status="active").order_by("first_seen_on").first()
    assert first_seen.first_seen_on == datetime.date(2025, 5, 19)
    assert Agreement.objects.filter(status="ended").exclude(ended_on=None).exists()

    Agreement.objects.all().delete()
    Agency.objects.all().delete()
    ImportSnapshot.objects.all().delete()
    run(str(NEWEST), "--pending", str(NEWEST_PENDING))
    newest_only = active_set()
    assert replayed == newest_only
