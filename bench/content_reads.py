"""Print how long the resident-facing content reads take, and how many queries they make.

Migrates the database and loads the demo content first (both do nothing when done already).
Run:  .venv/bin/python bench/content_reads.py
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from assistant.content.selectors import (  # noqa: E402
    guide_for_place,
    help_organizations_for_place,
    policy_notes_for_place,
)
from assistant.models import Place  # noqa: E402

READS = {
    "guide_for_place": guide_for_place,
    "policy_notes_for_place": policy_notes_for_place,
    "help_organizations_for_place": help_organizations_for_place,
}


def main(rounds: int = 200) -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("load_demo", verbosity=0)  # nothing changes when it is loaded already
    places = [
        Place.objects.get(state__abbreviation="NY", name="Nassau County"),
        Place.objects.get(state__abbreviation="NY", name="Queens County"),
        Place.objects.get(state__abbreviation="CT", name="Hartford"),
    ]
    print(f"database: {connection.vendor}; {rounds} rounds per place and language")
    for name, read in READS.items():
        for place in places:
            for language in ("es", "ht"):
                queries = []

                def count(execute, sql, params, many, context, queries=queries):
                    queries.append(sql)
                    return execute(sql, params, many, context)

                with connection.execute_wrapper(count):
                    read(place=place, language=language)
                times = []
                for _ in range(rounds):
                    start = time.perf_counter()
                    read(place=place, language=language)
                    times.append((time.perf_counter() - start) * 1000)
                print(
                    f"{name:30} {str(place):22} {language:3} "
                    f"median {statistics.median(times):6.2f} ms  "
                    f"p95 {sorted(times)[int(rounds * 0.95)]:6.2f} ms  "
                    f"queries {len(queries)}"
                )


if __name__ == "__main__":
    main()
