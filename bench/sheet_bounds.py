"""Print how long refusing hostile spreadsheets takes, and the memory it needs.

Builds, in a temporary folder: an xlsx whose sheet unpacks to 2 GB (the zip bomb of issue 19),
an xlsx of 700,000 rows with and without its <dimension>, and one of 300,000 rows without it.
Each file is checked by ``check_spreadsheet_bounds`` in a fresh process, which prints its time
and peak memory (maxrss).

    .venv/bin/python bench/sheet_bounds.py
"""

import os
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from assistant.ice_import.bounds import SheetTooLarge, check_spreadsheet_bounds  # noqa: E402
from tests.ice_import.xlsx_builders import (  # noqa: E402
    CONTENT_TYPES,
    ROOT_RELS,
    SHEET_HEAD,
    WORKBOOK,
    WORKBOOK_RELS,
    zeros_bomb,
)


def rows_xlsx(path: Path, rows: int, *, dimension: bool) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as stream:
            stream.write(SHEET_HEAD.encode())
            if dimension:
                stream.write(f'<dimension ref="A1:E{rows}"/>'.encode())
            stream.write(b"<sheetData>")
            for start in range(1, rows + 1, 10_000):
                block = "".join(
                    f'<row r="{row}">'
                    + "".join(
                        f'<c r="{col}{row}" t="inlineStr"><is><t>x</t></is></c>' for col in "ABCDE"
                    )
                    + "</row>"
                    for row in range(start, min(start + 10_000, rows + 1))
                )
                stream.write(block.encode())
            stream.write(b"</sheetData></worksheet>")


def check(path: str) -> None:
    data = Path(path).read_bytes()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    try:
        check_spreadsheet_bounds(data, Path(path).name)
        outcome = "accepted"
    except SheetTooLarge as error:
        outcome = f"refused ({error.limit}): {error}"
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"{Path(path).name}: {len(data) / 1e6:.1f} MB file, {seconds:.3f} s, "
        f"peak RSS {after / 1024:.0f} MB (+{(after - before) / 1024:.1f} MB during the check)"
    )
    print(f"    {outcome}")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        started = time.perf_counter()
        bomb = folder / "bomb-2GB.xlsx"
        zeros_bomb(bomb, 2 * 1024**3)
        rows_xlsx(folder / "rows-700k.xlsx", 700_000, dimension=True)
        rows_xlsx(folder / "rows-700k-no-dimension.xlsx", 700_000, dimension=False)
        # Under the unpacked-size limit: its rows are counted streaming, up to the limit.
        rows_xlsx(folder / "rows-300k-no-dimension.xlsx", 300_000, dimension=False)
        print(f"(built the files in {time.perf_counter() - started:.0f} s)")
        names = [path.name for path in sorted(folder.iterdir())]
        for name in names:
            subprocess.run([sys.executable, __file__, "--check", str(folder / name)], check=True)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        check(sys.argv[2])
    else:
        main()
