"""The gazetteer files shipped in ``assistant/places/data`` (see its README for sources).

Built by ``scripts/build_gazetteer.py`` from data packages; read here, and nowhere else.
"""

import csv
import gzip
import io
from collections.abc import Iterator
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


def gazetteer_rows(name: str, folder: Path = DATA) -> Iterator[dict[str, str]]:
    """Yield the rows of one gazetteer file (``counties.csv``, ``places.csv.gz``…) as dicts."""
    raw = (folder / name).read_bytes()
    if name.endswith(".gz"):
        raw = gzip.decompress(raw)
    yield from csv.DictReader(io.StringIO(raw.decode("utf-8")))
