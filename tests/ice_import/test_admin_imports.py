"""The organizer uploads ICE's files in the admin, sees the preview, then applies it."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from assistant.models import AgencyAlias, Agreement, ImportSnapshot, UnmatchedRow
from assistant.places.selectors import place_answer
from tests.factories import UserFactory, place, state
from tests.support.ice_rows import (
    MAY_PARTICIPATING,
    NASSAU_NY,
    UNPLACEABLE_FL,
    xlsx,
)

pytestmark = pytest.mark.django_db
UPLOAD = reverse("admin:assistant_importsnapshot_upload")


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
