"""Spreadsheets within bounds: hostile files refused in well under a second, with little memory."""

import io
import time
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from assistant.ice_import.bounds import SheetLimits, SheetTooLarge, check_spreadsheet_bounds

from .xlsx_builders import sheet_xml, xlsx_bytes, zeros_bomb

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "ice-287g"
REAL_FILES = ["participatingAgencies05162025am.xlsx", "pendingAgencies05152025am.xlsx"]


def refused(data: bytes, name: str = "list.xlsx", limits: SheetLimits | None = None):
    started = time.perf_counter()
    with pytest.raises(SheetTooLarge) as caught:
        check_spreadsheet_bounds(data, name, limits)
    return caught.value, time.perf_counter() - started


def peak_memory(function) -> int:
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("name", REAL_FILES)
def test_ice_real_lists_pass(name):
    # How fast a list is checked is measured in bench/sheet_bounds.py, not asserted here.
    data = (FIXTURES / name).read_bytes()
    assert check_spreadsheet_bounds(data, name, SheetLimits()) is None


def test_a_file_too_big_is_refused_before_it_is_opened():
    error, _seconds = refused(b"PK\x03\x04" + b"\0" * 2000, limits=SheetLimits(max_file_bytes=1000))
    assert error.limit == "file_bytes"
    assert (error.value, error.maximum) == (2004, 1000)
    assert str(error) == (
        "list.xlsx is too large to read: the file size in bytes is 2,004, the limit is 1,000."
    )


def test_zip_bomb_refused_from_the_directory_with_little_memory(tmp_path):
    # 200 MB of zeros packs to about 200 KB: the directory declares the unpacked size.
    data = zeros_bomb(tmp_path / "bomb.xlsx", 200 * 1024 * 1024)
    assert len(data) < 1024 * 1024
    error, seconds = refused(data)
    assert error.limit == "member_bytes"
    assert "xl/worksheets/sheet1.xml" in str(error)
    peak = peak_memory(lambda: refused(data))
    assert peak < 2 * 1024 * 1024  # nothing unpacked: the refusal costs less than the file


def test_compression_ratio_of_a_bomb_within_the_sizes(tmp_path):
    data = zeros_bomb(tmp_path / "bomb.xlsx", 5 * 1024 * 1024)
    error, _seconds = refused(data)
    assert error.limit == "compression_ratio"
    assert error.value > 100


def test_total_unpacked_size_counts_every_member():
    sheet = sheet_xml(10)
    filler = {f"xl/media/filler{index}.xml": b"x" * 400_000 for index in range(5)}
    limits = SheetLimits(max_uncompressed_bytes=1_000_000)
    error, _seconds = refused(xlsx_bytes(sheet, extra_members=filler), limits=limits)
    assert error.limit == "uncompressed_bytes"


def test_too_many_members():
    members = {f"docProps/item{index}.xml": b"<a/>" for index in range(250)}
    error, _seconds = refused(xlsx_bytes(sheet_xml(3), extra_members=members))
    assert error.limit == "members"
    assert error.value == 255


def test_seventy_thousand_rows_refused_from_the_dimension():
    data = xlsx_bytes(sheet_xml(70_000, 5))
    error, seconds = refused(data)
    assert error.limit == "rows"
    assert error.value == 70_000
    assert "declares" in str(error)


@pytest.mark.parametrize("dimension", [None, "A1:E10"], ids=["absent", "lying"])
def test_seventy_thousand_rows_counted_when_the_dimension_is_absent_or_lies(dimension):
    data = xlsx_bytes(sheet_xml(70_000, 5, dimension=dimension))
    error, seconds = refused(data)
    assert error.limit == "rows"
    assert 50_000 < error.value < 70_000  # counting stopped at the first chunk past the limit
    if dimension is None:  # traced once, separately: tracing slows the count tenfold
        assert peak_memory(lambda: refused(data)) < 16 * 1024 * 1024


def test_rows_without_references_are_counted():
    data = xlsx_bytes(sheet_xml(600, 3, dimension=None, references=False))
    error, _seconds = refused(data, limits=SheetLimits(max_rows=500))
    assert error.limit == "rows"


def test_too_many_columns_declared_or_found():
    error, _seconds = refused(xlsx_bytes(sheet_xml(5, 60)))
    assert (error.limit, error.value, error.maximum) == ("columns", 60, 50)
    error, _seconds = refused(xlsx_bytes(sheet_xml(5, 60, dimension="A1:E5")))
    assert (error.limit, error.value) == ("columns", 60)


def test_one_far_cell_is_a_sheet_of_every_cell_before_it():
    far = '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    sheet = sheet_xml(2, 2, dimension=None).replace(b"</sheetData>", far.encode() + b"</sheetData>")
    error, _seconds = refused(xlsx_bytes(sheet))
    assert error.limit in {"rows", "columns"}


def test_a_huge_merged_range_is_refused():
    merge = '<mergeCells count="1"><mergeCell ref="A1:AX40000"/></mergeCells>'
    error, _seconds = refused(xlsx_bytes(sheet_xml(3, 5, extra=merge)))
    assert error.limit == "cells"


def test_a_namespace_prefix_does_not_hide_rows():
    sheet = sheet_xml(600, 3, dimension=None, references=False).decode()
    sheet = sheet.replace("<worksheet xmlns=", "<x:worksheet xmlns:x=").replace(
        "</worksheet>", "</x:worksheet>"
    )
    for tag in ("sheetData", "row", "c", "is", "t"):
        sheet = sheet.replace(f"<{tag}>", f"<x:{tag}>").replace(f"<{tag} ", f"<x:{tag} ")
        sheet = sheet.replace(f"</{tag}>", f"</x:{tag}>")
    error, _seconds = refused(xlsx_bytes(sheet.encode()), limits=SheetLimits(max_rows=500))
    assert error.limit == "rows"


def test_a_file_within_bounds_reads_as_before():
    data = xlsx_bytes(sheet_xml(1000, 8))
    assert check_spreadsheet_bounds(data, "list.xlsx") is None
    import openpyxl

    workbook = openpyxl.load_workbook(io.BytesIO(data))
    assert workbook.worksheets[0].max_row == 1000


def test_not_a_zip_and_not_a_csv_is_left_to_the_reader():
    assert check_spreadsheet_bounds(b"<html>error</html>", "list.xlsx") is None
    assert check_spreadsheet_bounds(b"PK\x03\x04 broken", "list.xlsx") is None


def test_csv_rows_and_columns():
    header = b"STATE,LAW ENFORCEMENT AGENCY,TYPE,COUNTY,SUPPORT TYPE,SIGNED\n"
    good = header + b"TX,Sheriff,County,Harris,Jail Enforcement Model,01/02/2025\n" * 900
    assert check_spreadsheet_bounds(good, "list.csv") is None
    error, _seconds = refused(header + b"a,b\n" * 60_000, "list.csv")
    assert (error.limit, error.value) == ("rows", 60_002)
    error, _seconds = refused(header + b"," * 80 + b"\n", "list.csv")
    assert (error.limit, error.value) == ("columns", 81)


def test_zip_directory_with_more_members_than_allowed_is_refused_before_zipfile():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index in range(300):
            archive.writestr(f"m{index}", b"")
    error, _seconds = refused(buffer.getvalue())
    assert (error.limit, error.value) == ("members", 300)
