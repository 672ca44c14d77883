"""ICE rows and spreadsheets for the import tests: real files and lists made like ICE's."""

import io
from pathlib import Path

import openpyxl
from django.core.management import call_command

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "ice-287g"
MAY_PARTICIPATING = FIXTURES / "participatingAgencies05162025am.xlsx"
MAY_PENDING = FIXTURES / "pendingAgencies05152025am.xlsx"
HEADERS = ["STATE", "LAW ENFORCEMENT AGENCY", "TYPE", "COUNTY", "SUPPORT TYPE", "SIGNED", "MOA"]
PENDING_HEADERS = HEADERS[:5]

NASSAU_NY = ("NEW YORK", "Nassau County Police Department", "County", "Nassau County ")
ESSEX_MA = ("MASSACHUSETTS", "Essex County Sheriff's Office", "County", "Essex County")
# No city or town of Florida is called Xyzzy, and the COUNTY column names none: unplaced.
UNPLACEABLE_FL = ("FLORIDA", "Xyzzy Police Department", "Municipality", "#N/A")


def xlsx(rows, *, headers=HEADERS, links=None) -> bytes:
    """Return an .xlsx file like ICE's; ``links`` maps (row index, header) to a hyperlink."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for index, row in enumerate(rows):
        sheet.append(list(row))
        for (link_row, header), target in (links or {}).items():
            if link_row == index:
                sheet.cell(row=index + 2, column=headers.index(header) + 1).hyperlink = target
    data = io.BytesIO()
    workbook.save(data)
    return data.getvalue()


def cut_to_a_fifth(data: bytes) -> bytes:
    """Return an .xlsx list with only the first fifth of its rows, as a broken list from ICE."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book.active
    keep = (sheet.max_row - 1) // 5
    sheet.delete_rows(keep + 2, sheet.max_row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def write(tmp_path, name, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def run(*args) -> str:
    out = io.StringIO()
    call_command("import_287g", *args, stdout=out)
    return out.getvalue()
