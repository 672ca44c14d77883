"""Print the time and peak memory of ``manage.py import_287g FILE --dry-run`` on hostile files.

Builds, in a temporary folder (or in FOLDER, kept): a zip bomb (a sheet of zeros that unpacks
to 2 GB from a 2 MB file), an XML bomb (3 million rows, 150 MB, packed about 350 to 1),
70,000 rows with and without their <dimension>, 200 columns, the most a list may hold
(49,000 rows of 10 cells, just under ICE_SHEET_MAX_CELLS) and a 30 MB file; runs the command
on each in its own process under ``/usr/bin/time -v``, whose "Maximum resident set size" is
the peak memory. ICE's real May 2025 list is run first, for comparison. Uses DATABASE_URL
(migrated here) or a throwaway SQLite file; the dry run writes nothing.

    .venv/bin/python bench/import_287g_hostile.py [FOLDER]
"""

import os
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.ice_import.xlsx_builders import (  # noqa: E402
    CONTENT_TYPES,
    ROOT_RELS,
    SHEET_HEAD,
    WORKBOOK,
    WORKBOOK_RELS,
    column_letters,
    zeros_bomb,
)

HEADERS = ("STATE", "LAW ENFORCEMENT AGENCY", "TYPE", "COUNTY", "SUPPORT TYPE", "SIGNED")
REAL = ROOT / "tests" / "fixtures" / "ice-287g" / "participatingAgencies05162025am.xlsx"


def _cell(column: str, row: int, text: str) -> str:
    return f'<c r="{column}{row}" t="inlineStr"><is><t>{text}</t></is></c>'


def list_xlsx(path: Path, rows: int, columns: int, *, dimension: bool) -> None:
    """Write ICE's headers and ``rows`` agency rows of ``columns`` cells, streaming."""
    letters = [column_letters(index) for index in range(1, columns + 1)]
    headers = list(HEADERS) + [f"EXTRA {index}" for index in range(len(HEADERS), columns)]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as stream:
            stream.write(SHEET_HEAD.encode())
            if dimension:
                stream.write(f'<dimension ref="A1:{letters[-1]}{rows + 1}"/>'.encode())
            stream.write(b"<sheetData>")
            head = "".join(_cell(c, 1, h) for c, h in zip(letters, headers, strict=False))
            stream.write(f'<row r="1">{head}</row>'.encode())
            for start in range(2, rows + 2, 5_000):
                block = []
                for row in range(start, min(start + 5_000, rows + 2)):
                    values = ["TX", f"Sheriff {row}", "County", f"County {row % 250}"]
                    values += ["Jail Enforcement Model", "01/02/2025"]
                    values += [f"x{row}"] * (columns - len(values))
                    cells = "".join(_cell(c, row, v) for c, v in zip(letters, values, strict=False))
                    block.append(f'<row r="{row}">{cells}</row>')
                stream.write("".join(block).encode())
            stream.write(b"</sheetData></worksheet>")


def xml_bomb(path: Path, rows: int) -> None:
    """Write a valid sheet of ``rows`` identical rows: it packs about 350 to 1."""
    row = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>' * 10_000
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as stream:
            stream.write(SHEET_HEAD.encode() + b"<sheetData>")
            for _block in range(rows // 10_000):
                stream.write(row)
            stream.write(b"</sheetData></worksheet>")


def build(folder: Path) -> list[Path]:
    files = [
        (folder / "bomb-2GB.xlsx", lambda p: zeros_bomb(p, 2 * 1024**3)),
        (folder / "xml-bomb-3M-rows.xlsx", lambda p: xml_bomb(p, 3_000_000)),
        (folder / "rows-70k.xlsx", lambda p: list_xlsx(p, 70_000, 6, dimension=True)),
        (folder / "rows-70k-no-dimension.xlsx", lambda p: list_xlsx(p, 70_000, 6, dimension=False)),
        (folder / "columns-200.xlsx", lambda p: list_xlsx(p, 100, 200, dimension=False)),
        (
            folder / "cells-490k-no-dimension.xlsx",
            lambda p: list_xlsx(p, 48_999, 10, dimension=False),
        ),
        (folder / "big-30MB.csv", lambda p: p.write_bytes(b"," * 30 * 1024 * 1024)),
    ]
    for path, make in files:
        if not path.exists():
            make(path)
    return [path for path, _make in files]


def measure(path: Path) -> None:
    command = ["/usr/bin/time", "-v", sys.executable, "manage.py", "import_287g", str(path)]
    done = subprocess.run(
        [*command, "--dry-run", "--as-of", "2025-05-16"], cwd=ROOT, capture_output=True, text=True
    )
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    wall = re.search(r"Elapsed \(wall clock\) time .*: (\S+)", done.stderr)
    errors = [line for line in done.stderr.splitlines() if line.startswith("CommandError")]
    outcome = errors[0] if errors else (done.stdout.strip().splitlines() or ["(no output)"])[0]
    print(
        f"{path.name}: {path.stat().st_size / 1e6:.1f} MB, exit {done.returncode}, "
        f"{wall.group(1) if wall else '?'} wall, peak RSS "
        f"{int(peak.group(1)) / 1024 if peak else 0:.0f} MB\n    {outcome[:200]}"
    )


def main() -> None:
    os.environ.setdefault("DEBUG", "true")
    if not os.environ.get("DATABASE_URL"):
        database = Path(tempfile.mkdtemp()) / "bench.sqlite3"
        os.environ["DATABASE_URL"] = f"sqlite:///{database}"
        print(f"DATABASE_URL not set: using SQLite ({os.environ['DATABASE_URL']})")
    manage = [sys.executable, "manage.py", "migrate", "--no-input"]
    subprocess.run(manage, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    if len(sys.argv) > 1:
        folder = Path(sys.argv[1])
        folder.mkdir(parents=True, exist_ok=True)
        paths = build(folder)
        for path in [REAL, *paths]:
            measure(path)
        return
    with tempfile.TemporaryDirectory() as temporary:
        paths = build(Path(temporary))
        for path in [REAL, *paths]:
            measure(path)


if __name__ == "__main__":
    main()
