"""Spreadsheets within bounds: refuse a file too big to read before anything parses it.

Even read streaming (openpyxl's read-only mode, sheets.py), a sheet is parsed cell by cell
and its rows are kept until they are matched: an 8.6 MB xlsx that unpacks to 2 GB of XML, or
a small one naming cell XFD1048576, takes minutes and gigabytes. ``sheet_file_read`` reads no
more of a file than the size limit. ``check_spreadsheet_bounds`` looks only at what costs
nothing to read: the file's size, the zip's directory (declared sizes, which ``zipfile`` will
not read past, and the number of members), the sheet's ``<dimension>`` element, then the sheet
XML streamed in chunks with its rows, cells and furthest cell reference counted, stopping at
the first limit crossed. ICE's real lists are about 70 KB (400 KB unpacked), under 1,000 rows
and 13 columns.
"""

import io
import os
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

MB = 1024 * 1024
ZIP_SIGNATURE = b"PK\x03\x04"
CHUNK_BYTES = 1 * MB
DIMENSION_PEEK_BYTES = 64 * 1024
# A tag that starts this close to the end of a chunk is carried over to the next chunk whole.
CARRY_BYTES = 4096
CENTRAL_DIRECTORY_BYTES_PER_MEMBER = 1024  # ICE's files use about 70
# What reading a broken member raises (a bad CRC, a corrupt deflate stream, an encrypted one…):
# the sheet reader will not open it either, and says so.
UNREADABLE_MEMBER = (
    zipfile.BadZipFile,
    NotImplementedError,
    OSError,
    EOFError,
    RuntimeError,
    zlib.error,
)

# A cell's reference, wherever an attribute named like ``r`` holds one (over-counting is safe).
CELL_REF_RE = re.compile(rb"r=\"\$?([A-Za-z]{1,3})\$?(\d{1,9})\"")
WORKSHEET_ROOT_RE = re.compile(rb"<(\w+:)?worksheet[\s>]")
DIMENSION_RE = re.compile(
    rb"<(?:\w+:)?dimension\s[^>]*?\bref=\"\$?([A-Za-z]{1,3})\$?(\d{1,9})"
    rb"(?::\$?([A-Za-z]{1,3})\$?(\d{1,9}))?\""
)


@dataclass(frozen=True)
class SheetLimits:
    """How big a spreadsheet may be. The defaults are far above ICE's lists."""

    max_file_bytes: int = 20 * MB
    max_uncompressed_bytes: int = 100 * MB  # all members of the xlsx together
    max_member_bytes: int = 100 * MB  # one member, unpacked
    max_compression_ratio: float = 100.0  # ICE's sheets compress about 6 to 1
    ratio_above_bytes: int = 1 * MB  # tiny members may compress better; they cost nothing
    max_members: int = 200  # ICE's files have about 20
    max_rows: int = 50_000
    max_columns: int = 50
    # openpyxl (full mode) took 3.1 s and 71 MB for 200,000 cells (20,000 rows x 10); read-only,
    # the most (490,000 cells) takes about 75 MB (bench/import_287g_hostile.py).
    max_cells: int = 500_000  # all sheets together; ICE's list has about 8,000


class SheetTooLarge(ValueError):
    """The file is beyond a limit; the message names the limit, the value and the maximum."""

    def __init__(self, message: str, *, limit: str, value: int | float, maximum: int | float):
        super().__init__(message)
        self.limit = limit
        self.value = value
        self.maximum = maximum


def _refuse(name: str, limit: str, what: str, value, maximum):
    raise SheetTooLarge(
        _("%(name)s is too large to read: %(what)s is %(value)s, the limit is %(maximum)s.")
        % {"name": name, "what": what, "value": _number(value), "maximum": _number(maximum)},
        limit=limit,
        value=value,
        maximum=maximum,
    )


def _number(value) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}"
    return f"{value:,}"


def column_index(letters: bytes | str) -> int:
    """Return the 1-based index of a column named like ``A``, ``M`` or ``XFD``."""
    if isinstance(letters, bytes):
        letters = letters.decode("ascii")
    index = 0
    for letter in letters.upper():
        index = index * 26 + (ord(letter) - ord("A") + 1)
    return index


def sheet_file_read(path: Path, limits: SheetLimits | None = None) -> bytes:
    """Return the bytes of the file at ``path``, never reading past ``max_file_bytes``.

    Raise ``SheetTooLarge`` for a larger file: from its size when the file system knows it,
    else (a pipe, a device) after reading one byte more than the limit. ``OSError`` when the
    file cannot be read.
    """
    limits = limits or SheetLimits()
    maximum = limits.max_file_bytes
    with open(path, "rb") as stream:
        size = os.fstat(stream.fileno()).st_size
        if size > maximum:
            _refuse(path.name, "file_bytes", _("the file size in bytes"), size, maximum)
        data = stream.read(maximum + 1)
    if len(data) > maximum:
        _refuse(path.name, "file_bytes", _("the file size in bytes"), len(data), maximum)
    return data


def check_spreadsheet_bounds(data: bytes, name: str, limits: SheetLimits | None = None) -> None:
    """Raise ``SheetTooLarge`` when the file is beyond ``limits``; return None when within.

    An xlsx is recognised by the zip signature (as the sheet reader does), a CSV by its name.
    A file that is neither, or a zip that cannot be opened, is left to the sheet reader, which
    refuses it with its own message: this check only refuses what is too large.
    """
    limits = limits or SheetLimits()
    if len(data) > limits.max_file_bytes:
        _refuse(name, "file_bytes", _("the file size in bytes"), len(data), limits.max_file_bytes)
    if data[:4] == ZIP_SIGNATURE:
        _check_xlsx(data, name, limits)
    elif name.lower().endswith(".csv"):
        _check_csv(data, name, limits)


def _check_csv(data: bytes, name: str, limits: SheetLimits) -> None:
    # Upper bounds: a quoted field may hold a newline or a comma; ICE's CSV files hold neither.
    rows = max(data.count(b"\n"), data.count(b"\r")) + 1
    if rows > limits.max_rows:
        _refuse(name, "rows", _("the number of rows"), rows, limits.max_rows)
    columns = max((line.count(b",") + 1 for line in data.splitlines()), default=0)
    if columns > limits.max_columns:
        _refuse(name, "columns", _("the number of columns"), columns, limits.max_columns)


def _central_directory(data: bytes) -> tuple[int, int] | None:
    """Return (members, directory bytes) from the zip's end record, before zipfile reads it."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if end < 0 or end + 22 > len(data):
        return None
    _sig, _disk, _start, _here, members, size, _offset, _comment = struct.unpack(
        "<4s4H2LH", data[end : end + 22]
    )
    if members == 0xFFFF or size == 0xFFFFFFFF:  # zip64: the real figures are in another record
        end64 = data.rfind(b"PK\x06\x06", 0, end)
        if end64 < 0 or end64 + 56 > len(data):
            return None
        members, size = struct.unpack("<QQ", data[end64 + 32 : end64 + 48])
    return members, size


def _check_xlsx(data: bytes, name: str, limits: SheetLimits) -> None:
    directory = _central_directory(data)
    if directory:
        members, directory_bytes = directory
        if members > limits.max_members:
            _refuse(
                name, "members", _("the number of files in the xlsx"), members, limits.max_members
            )
        most = limits.max_members * CENTRAL_DIRECTORY_BYTES_PER_MEMBER
        if directory_bytes > most:
            _refuse(
                name, "directory_bytes", _("the size of the xlsx directory"), directory_bytes, most
            )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_members:
            _refuse(
                name,
                "members",
                _("the number of files in the xlsx"),
                len(infos),
                limits.max_members,
            )
        total = 0
        for info in infos:
            if info.file_size > limits.max_member_bytes:
                _refuse(
                    name,
                    "member_bytes",
                    _("the unpacked size of %(member)s in bytes") % {"member": info.filename},
                    info.file_size,
                    limits.max_member_bytes,
                )
            if info.file_size > limits.ratio_above_bytes:
                ratio = info.file_size / max(info.compress_size, 1)
                if ratio > limits.max_compression_ratio:
                    _refuse(
                        name,
                        "compression_ratio",
                        _("the compression ratio of %(member)s") % {"member": info.filename},
                        round(ratio, 1),
                        limits.max_compression_ratio,
                    )
            total += info.file_size
            if total > limits.max_uncompressed_bytes:
                _refuse(
                    name,
                    "uncompressed_bytes",
                    _("the unpacked size in bytes"),
                    total,
                    limits.max_uncompressed_bytes,
                )
        cells = 0
        for info in infos:
            # Every member is looked at: a worksheet is known by its root element, not its name.
            if not info.is_dir():
                cells = _check_sheet_xml(archive, info, name, limits, cells)


def _check_extent(name, member, limits, rows, columns, what_rows, what_columns):
    if rows > limits.max_rows:
        _refuse(name, "rows", what_rows % {"member": member}, rows, limits.max_rows)
    if columns > limits.max_columns:
        _refuse(name, "columns", what_columns % {"member": member}, columns, limits.max_columns)
    # The reader walks every coordinate from A1 to the last row and column, filled or not.
    if rows * columns > limits.max_cells:
        _refuse(
            name,
            "cells",
            _("the number of cells from A1 to the last cell of %(member)s") % {"member": member},
            rows * columns,
            limits.max_cells,
        )


def _check_sheet_xml(archive, info, name: str, limits: SheetLimits, cells: int) -> int:
    """Stream one member's XML; return the cells counted so far across sheets."""
    member = info.filename
    try:
        with archive.open(info) as stream:
            head = stream.read(DIMENSION_PEEK_BYTES)
    except UNREADABLE_MEMBER:
        return cells  # the sheet reader will not open it either, and says so
    root = WORKSHEET_ROOT_RE.search(head[:4096])
    if not root:
        return cells  # not a worksheet: shared strings, styles, drawings…
    dimension = DIMENSION_RE.search(head)
    if dimension:
        first_col, first_row, last_col, last_row = dimension.groups()
        rows = int(last_row or first_row)
        columns = column_index(last_col or first_col)
        _check_extent(
            name,
            member,
            limits,
            rows,
            columns,
            _("the number of rows %(member)s declares"),
            _("the number of columns %(member)s declares"),
        )
    # Element names carry the prefix the root element uses (``<x:row>``, usually none).
    prefix = root.group(1) or b""
    row_open = re.compile(b"<" + re.escape(prefix) + rb"row[\s>/]")
    cell_open = re.compile(b"<" + re.escape(prefix) + rb"c[\s>/]")
    ranges = [b"<" + prefix + b"mergeCell", b"<" + prefix + b"hyperlink"]
    range_re = re.compile(
        b"<" + re.escape(prefix) + rb"(?:mergeCell|hyperlink)\s[^>]*?\bref=\"\$?([A-Za-z]{1,3})"
        rb"\$?(\d{1,9})(?::\$?([A-Za-z]{1,3})\$?(\d{1,9}))?\""
    )
    rows = max_row = max_column = 0
    carry = b""
    try:
        with archive.open(info) as stream:
            while True:
                chunk = stream.read(CHUNK_BYTES)
                buffer = carry + chunk
                if chunk:
                    cut = buffer.rfind(b"<")
                    if cut < 0 or len(buffer) - cut > CARRY_BYTES:
                        cut = len(buffer)
                    piece, carry = buffer[:cut], buffer[cut:]
                else:
                    piece, carry = buffer, b""
                rows += len(row_open.findall(piece))
                cells += len(cell_open.findall(piece))
                refs = set(CELL_REF_RE.findall(piece))
                if any(tag in piece for tag in ranges):
                    for ranged in range_re.findall(piece):
                        refs.add(ranged[:2])
                        if ranged[2]:
                            refs.add(ranged[2:])
                            cells += _area(ranged)
                if refs:
                    max_row = max(max_row, max(int(row) for _col, row in refs))
                    letters = {col.upper() for col, _row in refs}
                    max_column = max(max_column, max(column_index(col) for col in letters))
                _check_extent(
                    name,
                    member,
                    limits,
                    max(rows, max_row),
                    max_column,
                    _("the number of rows in %(member)s"),
                    _("the number of columns in %(member)s"),
                )
                if cells > limits.max_cells:
                    _refuse(name, "cells", _("the number of cells"), cells, limits.max_cells)
                if not chunk:
                    break
    except UNREADABLE_MEMBER:
        return cells
    return cells


def _area(ranged: tuple) -> int:
    first_col, first_row, last_col, last_row = ranged
    width = abs(column_index(last_col) - column_index(first_col)) + 1
    height = abs(int(last_row) - int(first_row)) + 1
    return width * height
