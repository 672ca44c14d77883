"""The organizer uploads ICE's files in the admin, sees the preview, then applies it."""

import datetime
import io
from pathlib import Path

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from assistant.models import AgencyAlias, Agreement, HeldList, ImportSnapshot, UnmatchedRow
from assistant.places.selectors import place_answer
from tests.factories import UserFactory, place, state
from tests.ice_import.test_import_287g import database_state
from tests.support.ice_rows import (
    HEADERS,
    MAY_PARTICIPATING,
    NASSAU_NY,
    UNPLACEABLE_FL,
    cut_to_a_fifth,
    run,
    xlsx,
)

pytestmark = pytest.mark.django_db
UPLOAD = reverse("admin:assistant_importsnapshot_upload")
HISTORY = Path(__file__).resolve().parents[2] / "assistant/ice_import/data/ice-287g/history"
MAY_19 = HISTORY / "participatingAgencies05192025am.xlsx"
MAY_19_PENDING = HISTORY / "pendingAgencies05192025am.xlsx"


@pytest.fixture
def organizer(client, admin_login):
    return admin_login(client, UserFactory(is_superuser=True))


def upload(name, data):
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def test_the_snapshot_list_links_to_the_upload_page(organizer):
    page = organizer.get(reverse("admin:assistant_importsnapshot_changelist"))
    assert page.status_code == 200
    assert UPLOAD in page.content.decode()


def test_upload_shows_a_preview_then_apply_imports(organizer):
    rows = [
        NASSAU_NY + ("Task Force Model", datetime.datetime(2025, 3, 10), "link"),
        UNPLACEABLE_FL + ("Task Force Model", datetime.datetime(2025, 4, 15), "link"),
    ]
    page = organizer.post(
        UPLOAD,
        {
            "action": "preview",
            "participating": upload("participatingAgencies05162025am.xlsx", xlsx(rows)),
        },
    )
    text = page.content.decode()
    assert page.status_code == 200
    assert "Preview only: nothing was written." in text
    # A table: the added agreement linked to its place's admin page and public page.
    nassau = place("NY", "Nassau County")
    assert "Added in this list (2)" in text
    assert "<td>Nassau County Police Department</td>" in text
    assert reverse("admin:assistant_place_change", args=[nassau.pk]) in text
    assert nassau.get_absolute_url() in text
    # The counts add up: 0 before + 2 added − 0 ended = 2 active now.
    assert "<td>= 2</td>" in text
    # The row that cannot be placed is listed with its reason and the way to fix it.
    assert "Xyzzy Police Department" in text and "Say which place this is" in text
    assert reverse("admin:assistant_agencyalias_add") in text
    # "Older file imported on purpose" is said only when it happened.
    assert "imported on purpose" not in text
    assert not Agreement.objects.exists() and not ImportSnapshot.objects.exists()

    applied = organizer.post(UPLOAD, {"action": "apply"}, follow=True)
    snapshot = ImportSnapshot.objects.get()
    assert applied.redirect_chain[-1][0] == reverse(
        "admin:assistant_importsnapshot_change", args=[snapshot.pk]
    )
    text = applied.content.decode()
    assert "The import is applied." in text
    assert "<td>Nassau County Police Department</td>" in text
    assert "Yes: this file is older" not in text
    assert snapshot.imported_by.is_superuser
    assert place_answer(place=place("NY", "Nassau County")).has_agreement
    unmatched = UnmatchedRow.objects.get()
    listed = organizer.get(reverse("admin:assistant_unmatchedrow_changelist")).content.decode()
    assert unmatched.agency_name in listed


def test_the_real_file_previews_in_the_admin(organizer):
    page = organizer.post(
        UPLOAD,
        {
            "action": "preview",
            "participating": upload(MAY_PARTICIPATING.name, MAY_PARTICIPATING.read_bytes()),
        },
    )
    text = page.content.decode()
    assert '<th scope="row">Task Force Model</th><td>275</td>' in text
    assert "Placed by reading ICE" in text
    assert not Agreement.objects.exists()


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("participatingAgencies05162025am.xlsx", b"hello", "is not a spreadsheet"),
        ("participatingAgencies05162025am.xlsx", b"", "is empty"),
    ],
)
def test_a_bad_upload_is_a_form_error_and_writes_nothing(organizer, name, data, message):
    page = organizer.post(UPLOAD, {"action": "preview", "participating": upload(name, data)})
    assert page.status_code == 200
    assert message in page.content.decode()
    assert not ImportSnapshot.objects.exists()


def test_apply_without_a_preview_imports_nothing(organizer):
    page = organizer.post(UPLOAD, {"action": "apply"}, follow=True)
    assert "preview has expired" in page.content.decode()
    assert not ImportSnapshot.objects.exists()


def test_staff_without_the_import_permission_cannot_upload(client, admin_login):
    admin_login(client, UserFactory())
    assert client.get(UPLOAD).status_code == 403


def test_an_unplaced_row_is_fixed_once_from_the_admin_with_an_alias(organizer):
    rows = [UNPLACEABLE_FL + ("Task Force Model", datetime.datetime(2025, 4, 15), "link")]
    organizer.post(
        UPLOAD,
        {
            "action": "preview",
            "participating": upload("participatingAgencies05162025am.xlsx", xlsx(rows)),
        },
    )
    organizer.post(UPLOAD, {"action": "apply"})
    row = UnmatchedRow.objects.get()
    listed = organizer.get(reverse("admin:assistant_unmatchedrow_changelist")).content.decode()
    add = reverse("admin:assistant_agencyalias_add")
    assert add in listed and "Say which place this is" in listed
    florida, miami_dade = state("FL"), place("FL", "Miami-Dade County")
    form = organizer.get(f"{add}?state={florida.pk}&ice_text={row.agency_name}")
    assert form.status_code == 200 and row.agency_name in form.content.decode()
    saved = organizer.post(
        add, {"state": florida.pk, "ice_text": row.agency_name, "place": miami_dade.pk, "note": ""}
    )
    assert saved.status_code == 302, saved.content.decode()[:2000]
    alias = AgencyAlias.objects.get()
    assert (alias.place, alias.created_by.is_superuser) == (miami_dade, True)
    row.agency.refresh_from_db()
    assert row.agency.place == miami_dade
    assert place_answer(place=miami_dade).has_agreement


# The quality gate on an upload: warnings first, applied only once confirmed ---------------


def held_url(held) -> str:
    return reverse("admin:assistant_importsnapshot_held", args=[held.pk])


def message(text: str) -> str:
    """Return a message as the admin shows it: its first letter capitalized."""
    return text[:1].upper() + text[1:]


def test_an_upload_cut_to_a_fifth_shows_the_warnings_and_is_applied_only_once_confirmed(
    organizer,
):
    run(str(MAY_PARTICIPATING))
    before = database_state()
    cut = upload(MAY_19.name, cut_to_a_fifth(MAY_19.read_bytes()))
    page = organizer.post(UPLOAD, {"action": "preview", "participating": cut}, follow=True)
    held = HeldList.objects.get()
    assert page.redirect_chain[-1][0] == held_url(held)
    text = page.content.decode()
    assert "This list looks wrong. Check these warnings before you apply it:" in text
    assert "This list has 119 rows, 21% of the 571 rows of the last list applied." in text
    assert "I have read the warnings: apply this list anyway" in text
    # What it would change is shown: most agreements would end.
    assert "Ended in this list (" in text
    assert (held.source, held.decision, held.codes) == ("uploaded", "held", ["rows_dropped"])
    assert held.uploaded_by.is_superuser
    assert database_state() == before  # nothing applied: no agreement ended
    # Pressing "apply" without ticking the box applies nothing.
    page = organizer.post(held_url(held), {"action": "apply"})
    assert page.status_code == 200
    assert "Tick the box to confirm that you have read the warnings." in page.content.decode()
    assert database_state() == before
    # Confirmed: applied as ICE's list of 19 May.
    applied = organizer.post(held_url(held), {"action": "apply", "confirm": "on"}, follow=True)
    snapshot = ImportSnapshot.objects.latest()
    assert applied.redirect_chain[-1][0] == reverse(
        "admin:assistant_importsnapshot_change", args=[snapshot.pk]
    )
    assert message(f"{MAY_19.name} is applied.") in applied.content.decode()
    assert (snapshot.file_name, str(snapshot.as_of)) == (MAY_19.name, "2025-05-19")
    held.refresh_from_db()
    assert held.decision == HeldList.Decision.APPLIED and held.snapshot == snapshot
    assert held.decided_by.is_superuser
    assert Agreement.objects.filter(status=Agreement.Status.ACTIVE).count() < 571 // 4
    # Decided once: confirming again applies nothing more.
    again = organizer.post(held_url(held), {"action": "apply", "confirm": "on"}, follow=True)
    assert "was already decided: applied." in again.content.decode()
    assert ImportSnapshot.objects.count() == 2


def test_a_clean_upload_is_applied_in_one_step_after_its_preview(organizer):
    run(str(MAY_PARTICIPATING))
    page = organizer.post(
        UPLOAD,
        {
            "action": "preview",
            "participating": upload(MAY_19.name, MAY_19.read_bytes()),
            "pending": upload(MAY_19_PENDING.name, MAY_19_PENDING.read_bytes()),
        },
    )
    text = page.content.decode()
    assert "Preview only: nothing was written." in text
    assert "looks wrong" not in text and "I have read the warnings" not in text
    assert not HeldList.objects.exists()
    applied = organizer.post(UPLOAD, {"action": "apply"}, follow=True)
    assert "The import is applied." in applied.content.decode()
    assert ImportSnapshot.objects.latest().file_name == MAY_19.name
    assert Agreement.objects.filter(status=Agreement.Status.ACTIVE).count() == 581


def shifted_header_list() -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["287(g) participating agencies"])
    sheet.append(HEADERS)
    sheet.append(list(NASSAU_NY + ("Task Force Model", datetime.datetime(2025, 3, 10), "link")))
    data = io.BytesIO()
    workbook.save(data)
    return data.getvalue()


def test_an_upload_with_a_shifted_header_can_be_rejected_and_changes_nothing(organizer):
    name = "participatingAgencies05162025am.xlsx"
    page = organizer.post(
        UPLOAD, {"action": "preview", "participating": upload(name, shifted_header_list())}
    )
    held = HeldList.objects.get()
    assert page.status_code == 302 and page["Location"] == held_url(held)
    text = organizer.get(held_url(held)).content.decode()
    assert "The column names are on row 2 of the sheet, not on row 1" in text
    assert "<td>Nassau County Police Department</td>" in text  # what it would add
    page = organizer.post(held_url(held), {"action": "reject"}, follow=True)
    assert message(f"{name} is rejected.") in page.content.decode()
    held.refresh_from_db()
    assert held.decision == HeldList.Decision.REJECTED
    assert not Agreement.objects.exists() and not ImportSnapshot.objects.exists()


def test_an_upload_missing_columns_is_a_form_error_and_holds_nothing(organizer):
    rows = [NASSAU_NY + ("Task Force Model",)]
    data = xlsx(rows, headers=HEADERS[:4] + ["MODEL"])
    page = organizer.post(
        UPLOAD,
        {"action": "preview", "participating": upload(MAY_PARTICIPATING.name, data)},
    )
    assert page.status_code == 200
    assert "does not have the columns of ICE&#x27;s list" in page.content.decode()
    assert not HeldList.objects.exists() and not ImportSnapshot.objects.exists()


def test_the_held_list_page_needs_the_import_permission(admin_login, organizer):
    organizer.post(
        UPLOAD,
        {
            "action": "preview",
            "participating": upload(MAY_PARTICIPATING.name, shifted_header_list()),
        },
    )
    held = HeldList.objects.get()
    staff = admin_login(Client(), UserFactory())
    assert staff.post(held_url(held), {"action": "apply", "confirm": "on"}).status_code == 403
    held.refresh_from_db()
    assert held.decision == HeldList.Decision.HELD
