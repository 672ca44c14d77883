"""Read ICE's 287(g) spreadsheets (participating and pending agencies) as they are published.

ICE's files are hand-kept: columns are found by header name, every text cell may carry
trailing or non-breaking spaces, counties may be '#N/A', a signing date may be impossible, and
the MOA cell says "link" with (or without) a hyperlink to the signed agreement. Nothing here
touches the database: a row is read into a ``SheetRow`` and kept as read.
"""

import csv
import datetime
import hashlib
import io
import json
import posixpath
import re
import zipfile
from dataclasses import asdict, dataclass
from xml.etree import ElementTree

from django.utils.translation import gettext as _

STATE = "STATE"
AGENCY = "LAW ENFORCEMENT AGENCY"
TYPE = "TYPE"
COUNTY = "COUNTY"
SUPPORT_TYPE = "SUPPORT TYPE"
SIGNED = "SIGNED"
MOA = "MOA"
ADDENDUM = "ADDENDUM"

PENDING_HEADERS = (STATE, AGENCY, TYPE, COUNTY, SUPPORT_TYPE)
PARTICIPATING_HEADERS = (*PENDING_HEADERS, SIGNED)
OPTIONAL_HEADERS = (MOA, ADDENDUM)

# ICE names its files like participatingAgencies05162025am.xlsx (month, day, year).
# ASCII digits only: "\d" also takes "٠٥" or "０５", which int() would read as 5.
FILE_DATE_RE = re.compile(r"([0-9]{2})([0-9]{2})([0-9]{4})(?:am|pm)?\.(?:xlsx|csv)$", re.IGNORECASE)
URL_RE = re.compile(r"^https?://\S+$", re.IGNORECASE)
DATE_FORMATS = ("%m/%d/%Y", "%Y-%m-%d", "%m/%d/%y", "%m-%d-%Y")
# 287(g) was written into law on 30 September 1996: no agreement was signed before it.
FIRST_POSSIBLE_SIGNING = datetime.date(1996, 9, 30)
HEADER_SEARCH_ROWS = 10


class SheetError(ValueError):
    """The file cannot be read as one of ICE's lists; the message names the problem."""


@dataclass(frozen=True)
class SheetFile:
    """An uploaded or opened file: its name and its bytes."""

    name: str
    data: bytes


@dataclass(frozen=True)
class SheetRow:
    """One row of ICE's list, cleaned of stray spaces but otherwise as published."""

    row_number: int
    state: str
    agency: str
    type: str
    county: str
    support_type: str
    signed: str = ""  # ISO date when the cell held a date, else the text as published
    signed_is_date: bool = False
    moa: str = ""
    moa_url: str = ""
    addendum: str = ""
    addendum_url: str = ""

    def as_dict(self) -> dict:
        """Return the row as plain data, to keep with the import snapshot."""
        return asdict(self)


def rows_fingerprint(rows: list[SheetRow]) -> str:
    """Return a fingerprint of what was read, the same for a re-saved copy of the same list."""
    text = json.dumps([row.as_dict() for row in rows], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def clean_text(value) -> str:
    """Return a cell as text without non-breaking, trailing or doubled spaces."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).replace("\xa0", " ")
    return " ".join(text.split())


def file_date(name: str) -> datetime.date | None:
    """Return the date in ICE's file name (``…05162025am.xlsx``), or None."""
    match = FILE_DATE_RE.search(name or "")
    if not match:
        return None
    month, day, year = (int(part) for part in match.groups())
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


def parse_signed(row: SheetRow, *, as_of: datetime.date) -> tuple[datetime.date | None, bool]:
    """Return (signing date, is impossible) for a row; an impossible date is never guessed."""
    if not row.signed:
        return None, False
    value = None
    if row.signed_is_date:
        value = datetime.date.fromisoformat(row.signed)
    else:
        for fmt in DATE_FORMATS:
            try:
                value = datetime.datetime.strptime(row.signed, fmt).date()
                break
            except ValueError:
                continue
    if value is None or value < FIRST_POSSIBLE_SIGNING or value > as_of:
        return None, True
    return value, False


def _normalize_header(value) -> str:
    return clean_text(value).upper()


def _find_header(rows: list[list], required: tuple[str, ...], name: str) -> tuple[int, dict]:
    for index, cells in enumerate(rows[:HEADER_SEARCH_ROWS]):
        headers = [_normalize_header(cell) for cell in cells]
        columns = {}
        for position, header in enumerate(headers):
            if header and header not in columns:
                columns[header] = position
        if all(header in columns for header in required):
            return index, columns
    missing = ", ".join(required)
    raise SheetError(
        _("%(name)s does not have the columns of ICE's list. Expected the headers: %(headers)s.")
        % {"name": name, "headers": missing}
    )


SHEET_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
RELATIONSHIP_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
PACKAGE_RELATIONSHIP = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"


def _not_readable(sheet: SheetFile, error: BaseException) -> SheetError:
    return SheetError(
        _("%(name)s is not a spreadsheet that can be read (%(error)s).")
        % {"name": sheet.name, "error": f"{type(error).__name__}: {error}"[:200]}
    )


def _sheet_links(archive: zipfile.ZipFile, sheet_path: str) -> dict[tuple[int, int], str]:
    """Return the target of each hyperlinked cell of a sheet, by (row, column).

    openpyxl's read-only mode skips hyperlinks, so they are read here, streaming: the sheet's
    <hyperlink ref="H2" r:id="rId1"/> elements and the targets its .rels file gives those ids.
    A link over a range is given to each of its cells (the bounds count those cells).
    """
    from openpyxl.utils.cell import range_boundaries

    folder, name = posixpath.split(sheet_path)
    # The standard parser, as openpyxl's own: it resolves no external entity, and this Python's
    # expat (2.4+) stops entity expansion bombs; the bounds have capped the unpacked size.
    try:
        rels_xml = archive.read(posixpath.join(folder, "_rels", name + ".rels"))
        rels = ElementTree.fromstring(rels_xml)  # noqa: S314 (see above)
        targets = {rel.get("Id"): rel.get("Target", "") for rel in rels.iter(PACKAGE_RELATIONSHIP)}
    except KeyError:  # no .rels file
        targets = {}
    links = {}
    if not targets:  # no link can have a target: the sheet is not read a second time
        return links
    with archive.open(sheet_path) as stream:
        for _event, element in ElementTree.iterparse(stream):  # noqa: S314 (see above)
            if element.tag == SHEET_NS + "hyperlink" and element.get("ref"):
                target = targets.get(element.get(RELATIONSHIP_ID), "")
                bounds = range_boundaries(element.get("ref"))
                if not target or None in bounds:  # an internal link, or a whole row or column
                    continue
                first_col, first_row, last_col, last_row = bounds
                for row in range(first_row, last_row + 1):
                    for column in range(first_col, last_col + 1):
                        links[(row, column)] = target
            elif element.tag == SHEET_NS + "row":
                element.clear()  # the cells were read by openpyxl; keep the memory flat
    return links


def _xlsx_cells(sheet: SheetFile) -> list[list[tuple]]:
    """Return the first sheet's cells as (value, hyperlink target) rows, in low memory.

    openpyxl's read-only mode streams the sheet instead of building an object per cell (for
    the most a list may hold, 49,000 rows of 10 cells, 75 MB instead of 250 MB); its
    <dimension> is ignored, as a file may claim fewer rows than it holds. Whatever openpyxl
    raises on a broken file (a truncated XML, a style index out of range …) means the file
    cannot be read: it is reported as such, never as a crash.
    """
    import openpyxl  # only where a list is read: the web and worker processes do without it

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(sheet.data), read_only=True, data_only=True)
    except Exception as error:  # noqa: BLE001 (hostile bytes in a third-party parser)
        raise _not_readable(sheet, error) from None
    try:
        worksheet = workbook.worksheets[0]
        worksheet.reset_dimensions()
        # openpyxl 3.1 keeps the sheet's path in the archive here; the import tests read a
        # list's MOA links, so a change in a newer openpyxl would not go unnoticed.
        links = _sheet_links(workbook._archive, worksheet._worksheet_path)
        rows = []
        for row, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
            rows.append(
                [(value, links.get((row, column), "")) for column, value in enumerate(values, 1)]
            )
        return rows
    except Exception as error:  # noqa: BLE001 (hostile bytes in a third-party parser)
        raise _not_readable(sheet, error) from None
    finally:
        workbook.close()


def _csv_cells(sheet: SheetFile) -> list[list[tuple]]:
    try:
        text = sheet.data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = sheet.data.decode("cp1252", errors="replace")
    if "\x00" in text:
        raise SheetError(_("%(name)s is not a CSV text file.") % {"name": sheet.name})
    try:
        return [[(value, "") for value in row] for row in csv.reader(io.StringIO(text))]
    except csv.Error as error:  # a field longer than 131,072 characters, …
        raise _not_readable(sheet, error) from None


def read_sheet(sheet: SheetFile, *, pending: bool = False) -> list[SheetRow]:
    """Return the rows of one of ICE's lists, or raise ``SheetError`` naming the problem.

    Blank rows (ICE's files end with some) are skipped; every other row is returned, even a
    broken one, so that the import can report it by its row number.
    """
    if not sheet.data:
        raise SheetError(_("%(name)s is empty.") % {"name": sheet.name})
    lower = sheet.name.lower()
    if sheet.data[:4] == b"PK\x03\x04":
        rows = _xlsx_cells(sheet)
    elif lower.endswith(".csv"):
        rows = _csv_cells(sheet)
    else:
        raise SheetError(
            _("%(name)s is not a spreadsheet: upload ICE's .xlsx file or a CSV file.")
            % {"name": sheet.name}
        )
    if not any(clean_text(value) for cells in rows for value, _link in cells):
        raise SheetError(_("%(name)s is empty.") % {"name": sheet.name})
    required = PENDING_HEADERS if pending else PARTICIPATING_HEADERS
    header_index, columns = _find_header(
        [[value for value, _link in cells] for cells in rows], required, sheet.name
    )

    def cell(cells, header):
        position = columns.get(header)
        if position is None or position >= len(cells):
            return None, ""
        return cells[position]

    result = []
    for index in range(header_index + 1, len(rows)):
        cells = rows[index]
        if not any(clean_text(value) for value, _link in cells):
            continue
        signed_value, _link = cell(cells, SIGNED)
        if isinstance(signed_value, datetime.datetime):
            signed, signed_is_date = signed_value.date().isoformat(), True
        elif isinstance(signed_value, datetime.date):
            signed, signed_is_date = signed_value.isoformat(), True
        else:
            signed, signed_is_date = clean_text(signed_value), False
        moa, moa_link = cell(cells, MOA)
        addendum, addendum_link = cell(cells, ADDENDUM)
        result.append(
            SheetRow(
                row_number=index + 1,
                state=clean_text(cell(cells, STATE)[0]),
                agency=clean_text(cell(cells, AGENCY)[0]),
                type=clean_text(cell(cells, TYPE)[0]),
                county=clean_text(cell(cells, COUNTY)[0]),
                support_type=clean_text(cell(cells, SUPPORT_TYPE)[0]),
                signed=signed,
                signed_is_date=signed_is_date,
                moa=clean_text(moa),
                moa_url=_url(moa, moa_link),
                addendum=clean_text(addendum),
                addendum_url=_url(addendum, addendum_link),
            )
        )
    if not result:
        raise SheetError(
            _("%(name)s has the headers of ICE's list but no agency rows.") % {"name": sheet.name}
        )
    return result


def _url(value, link: str) -> str:
    link = clean_text(link)
    if link and URL_RE.match(link):
        return link
    text = clean_text(value)
    if URL_RE.match(text):
        return text
    return ""


def header_row_index(sheet: SheetFile, *, pending: bool = False) -> int:
    """Return the 0-based sheet row holding ICE's column names (0 in every list of 2025)."""
    rows = _xlsx_cells(sheet) if sheet.data[:4] == b"PK\x03\x04" else _csv_cells(sheet)
    required = PENDING_HEADERS if pending else PARTICIPATING_HEADERS
    index, _columns = _find_header(
        [[value for value, _link in cells] for cells in rows], required, sheet.name
    )
    return index
