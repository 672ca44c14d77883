"""Time the import of ICE's real lists in one process (Django's start-up not counted).

Run by bench/import_287g.sh on a migrated database with the places loaded and no import.
Prints each figure, then one line per list of the history replay.
"""

import io
import sys
import time
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
django.setup()

from django.core.management import call_command  # noqa: E402

from assistant.models import (  # noqa: E402
    Agency,
    AgencyFact,
    Agreement,
    ImportSnapshot,
    ReviewFlag,
)

DATA = Path("assistant/ice_import/data/ice-287g")
HISTORY = DATA / "history"


def timed(label, *args):
    out = io.StringIO()
    start = time.perf_counter()
    call_command("import_287g", *map(str, args), stdout=out)
    print(f"{label:<62} {time.perf_counter() - start:6.2f} s", flush=True)
    return out.getvalue()


def empty():
    # Agency facts (the trust demo other benchmarks load) protect their agencies.
    for model in (ReviewFlag, Agreement, AgencyFact, Agency, ImportSnapshot):
        model.objects.all().delete()


empty()
timed(
    "first import of May 16 (571 rows + 92 pending)",
    DATA / "participatingAgencies05162025am.xlsx",
    "--pending",
    DATA / "pendingAgencies05152025am.xlsx",
)
timed(
    "July 18 am (825 rows + 26 pending) after May 16",
    HISTORY / "participatingAgencies07182025am.xlsx",
    "--pending",
    HISTORY / "pendingAgencies07182025am.xlsx",
)
timed(
    "July 18 pm (832 rows + 26 pending) after July 18 am",
    HISTORY / "participatingAgencies07182025pm.xlsx",
    "--pending",
    HISTORY / "pendingAgencies07182025pm.xlsx",
)
timed(
    "the same list again (nothing changes)",
    HISTORY / "participatingAgencies07182025pm.xlsx",
    "--pending",
    HISTORY / "pendingAgencies07182025pm.xlsx",
)
empty()
output = timed("the whole bundled history from scratch (24 lists)", "--history", HISTORY)
print("Per list (agreements in the list = ICE's rows less exact repeats):")
print(output, end="")
