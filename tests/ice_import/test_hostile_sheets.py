"""Hostile spreadsheets through every way in: `import_287g` (also --dry-run), the admin upload
and the reader itself. Each is refused with a message naming the problem, never a crash; the
reader streams (openpyxl read-only) and still finds the MOA links."""

import io
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError
from django.test import override_settings
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.ice_import.bounds import SheetLimits, SheetTooLarge, sheet_file_read
from assistant.ice_import.services import IMPORT_ERRORS, lists_read
from assistant.ice_import.sheets import SheetError, SheetFile, read_sheet
from assistant.models import Agreement, ImportSnapshot
from tests.factories import UserFactory
from tests.support.ice_rows import HEADERS, NASSAU_NY, run, write, xlsx

from .xlsx_builders import SHEET_HEAD, sheet_xml, xlsx_bytes, zeros_bomb

NAME = "participatingAgencies05162025am.xlsx"
REAL = Path(__file__).resolve().parent.parent / "fixtures" / "ice-287g" / NAME


def hostile(kind: str, tmp_path) -> bytes:
    """Build a hostile list in well under a second, against the default limits."""
    if kind == "zip bomb":  # 120 KB that unpacks to 120 MB
        return zeros_bomb(tmp_path / "bomb.xlsx", 120 * 1024 * 1024)
    if kind == "too many rows":
        return xlsx_bytes(sheet_xml(60_000, 3, dimension=None))
    if kind == "too many columns":
        return xlsx_bytes(sheet_xml(20, 80, dimension=None))
    raise ValueError(kind)


KINDS = {"zip bomb": "unpacked size", "too many rows": "rows", "too many columns": "columns"}


@pytest.mark.django_db
@pytest.mark.parametrize("dry_run", [True, False], ids=["dry-run", "import"])
@pytest.mark.parametrize("kind", KINDS)
def test_the_command_refuses_a_hostile_list_and_writes_nothing(tmp_path, kind, dry_run):
    path = write(tmp_path, NAME, hostile(kind, tmp_path))
    with pytest.raises(CommandError, match=f"too large to read: the .*{KINDS[kind]}"):
        run(path, "--dry-run") if dry_run else run(path)
    assert not Agreement.objects.exists() and not ImportSnapshot.objects.exists()


@pytest.mark.django_db
def test_the_command_refuses_a_file_beyond_the_size_without_reading_it(tmp_path):
    path = write(tmp_path, NAME, b"PK\x03\x04" + b"\0" * 5000)
    with override_settings(ICE_SHEET_MAX_BYTES=1000):
        with pytest.raises(CommandError, match="the file size in bytes is 5,004, the limit is 1,"):
            run(path, "--dry-run")


def test_a_file_without_a_size_is_read_one_byte_past_the_limit_and_no_more():
    # /dev/zero never ends: read whole, it would take all the memory there is.
    with pytest.raises(SheetTooLarge) as refused:
        sheet_file_read(Path("/dev/zero"), SheetLimits(max_file_bytes=4096))
    assert (refused.value.limit, refused.value.value) == ("file_bytes", 4097)


@pytest.mark.django_db
@pytest.mark.parametrize("kind", KINDS)
def test_the_admin_upload_shows_a_hostile_list_as_a_form_error(client, admin_login, tmp_path, kind):
    admin_login(client, UserFactory(is_superuser=True))
    upload = SimpleUploadedFile(NAME, hostile(kind, tmp_path))
    page = client.post(
        reverse("admin:assistant_importsnapshot_upload"),
        {"action": "preview", "participating": upload},
    )
    assert page.status_code == 200
    assert "too large to read" in page.content.decode()
    assert not ImportSnapshot.objects.exists()


BROKEN = {
    "truncated XML": xlsx_bytes(SHEET_HEAD.encode() + b"<sheetData><row><c><v>1</v>"),
    "not XML": xlsx_bytes(b"\0\0\0"),
    "a bad cell reference": xlsx_bytes(
        SHEET_HEAD.encode() + b'<sheetData><row r="x"><c r="!!"><v>1</v></c></row></sheetData>'
        b"</worksheet>"
    ),
    "a zip cut short": REAL.read_bytes()[:30_000],
}


@pytest.mark.django_db
@pytest.mark.parametrize("kind", BROKEN)
def test_a_broken_xlsx_is_a_clear_error_in_the_command_and_the_admin(
    client, admin_login, tmp_path, kind
):
    path = write(tmp_path, NAME, BROKEN[kind])
    with pytest.raises(CommandError, match="is not a spreadsheet that can be read|columns of"):
        run(path, "--dry-run")
    admin_login(client, UserFactory(is_superuser=True))
    page = client.post(
        reverse("admin:assistant_importsnapshot_upload"),
        {"action": "preview", "participating": SimpleUploadedFile(NAME, BROKEN[kind])},
    )
    assert page.status_code == 200
    assert "is not a spreadsheet that can be read" in page.content.decode() or (
        "does not have the columns" in page.content.decode()
    )


def test_a_csv_field_longer_than_the_csv_reader_takes_is_a_clear_error():
    data = ",".join(HEADERS).encode() + b'\n"' + b"x" * 200_000 + b'"\n'
    with pytest.raises(SheetError, match="is not a spreadsheet that can be read"):
        read_sheet(SheetFile("participatingAgencies05162025am.csv", data))


def test_rows_past_a_dimension_that_says_fewer_are_read():
    # Read-only mode trusts <dimension> unless told not to: the list would lose 28 rows.
    rows = [(*NASSAU_NY, "Task Force Model", "01/02/2025", "link")] * 30
    data = xlsx(rows)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    sheet = members["xl/worksheets/sheet1.xml"].decode()
    assert '<dimension ref="A1:G31" />' in sheet
    members["xl/worksheets/sheet1.xml"] = sheet.replace('"A1:G31"', '"A1:G3"').encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, content in members.items():
            archive.writestr(member, content)
    assert len(read_sheet(SheetFile(NAME, buffer.getvalue()))) == 30


def test_moa_links_are_read_streaming_and_a_link_that_is_no_web_address_is_dropped():
    rows = [(*NASSAU_NY, "Task Force Model", "01/02/2025", "link")] * 3
    links = {(0, "MOA"): "https://www.ice.gov/doclib/287gMOA/nassau.pdf", (2, "MOA"): "#Sheet1!A1"}
    read = read_sheet(SheetFile(NAME, xlsx(rows, links=links)))
    assert [row.moa_url for row in read] == [
        "https://www.ice.gov/doclib/287gMOA/nassau.pdf",
        "",
        "",
    ]


# Bytes changed at random in a real list: whatever comes out, the import reads it or refuses it
# with a message (SheetError or SheetTooLarge), never with another exception.
REAL_BYTES = REAL.read_bytes()


@settings(max_examples=max(1, settings.default.max_examples // 4))
@given(
    changes=st.lists(
        st.tuples(st.integers(0, len(REAL_BYTES) - 1), st.binary(min_size=1, max_size=4)),
        min_size=1,
        max_size=6,
    ),
    cut=st.one_of(st.none(), st.integers(100, len(REAL_BYTES))),
)
def test_a_list_changed_at_random_is_read_or_refused_never_a_crash(changes, cut):
    data = bytearray(REAL_BYTES)
    for position, replacement in changes:
        data[position : position + len(replacement)] = replacement
    data = bytes(data[:cut] if cut else data)
    try:
        lists_read(participating=SheetFile(NAME, data))
    except IMPORT_ERRORS as error:
        assert str(error)
