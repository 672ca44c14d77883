"""Import ICE's published 287(g) lists: ``manage.py import_287g PARTICIPATING.xlsx``.

``--history DIR`` imports every list of a folder in ICE's date order (see history.py).
"""

import datetime
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from assistant.ice_import.bounds import SheetTooLarge, sheet_file_read
from assistant.ice_import.bundled import bundled_list_is_new, bundled_lists_newest
from assistant.ice_import.history import history_order, pair_history
from assistant.ice_import.models import ImportSnapshot
from assistant.ice_import.report import import_report_lines
from assistant.ice_import.selectors import match_index
from assistant.ice_import.services import IMPORT_ERRORS, ice_lists_import, sheet_limits
from assistant.ice_import.sheets import SheetFile


def _read(path: str) -> SheetFile:
    """Return the file at ``path``, refused before it is read when it is beyond the bounds."""
    file = Path(path)
    try:
        return SheetFile(name=file.name, data=sheet_file_read(file, sheet_limits()))
    except OSError as error:
        raise CommandError(f"Cannot read {path}: {error.strerror}.") from None
    except SheetTooLarge as error:
        raise CommandError(str(error)) from None


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--as-of must be a date like 2025-05-16, not {text!r}.") from None


class Command(BaseCommand):
    help = (
        "Import ICE's list of participating agencies (and, with --pending, pending agencies) "
        "from .xlsx or CSV, compare it with the last import, and print the report."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "participating", nargs="?", help="participatingAgencies….xlsx (or .csv)"
        )
        parser.add_argument(
            "--bundled",
            action="store_true",
            help=(
                "Import the newest of ICE's lists shipped with the project, unless it (or a "
                "newer list) is already imported. `make run` uses this."
            ),
        )
        parser.add_argument(
            "--history",
            metavar="DIR",
            help=(
                "Import every list in DIR in ICE's date order (am before pm, _b after), each "
                "participating list with the newest pending list not newer than it."
            ),
        )
        parser.add_argument("--pending", help="pendingAgencies….xlsx (or .csv)")
        parser.add_argument(
            "--dry-run", action="store_true", help="Show what would change; write nothing."
        )
        parser.add_argument(
            "--force", action="store_true", help="Import a file older than the latest import."
        )
        parser.add_argument(
            "--as-of",
            help="The date of the list (YYYY-MM-DD) when the file name does not say it.",
        )

    def handle(self, *args, **options):
        if options["history"]:
            return self.handle_history(Path(options["history"]), options)
        if options["bundled"]:
            newest = bundled_lists_newest()
            if newest is None:
                raise CommandError("No ICE list is bundled with the project.")
            if not bundled_list_is_new(newest):
                self.stdout.write(
                    f"ICE's list {newest.participating.name} (or a newer one) is already "
                    "imported: nothing to do."
                )
                return
            participating = _read(str(newest.participating))
            pending = _read(str(newest.pending)) if newest.pending else None
        elif options["participating"]:
            participating = _read(options["participating"])
            pending = _read(options["pending"]) if options["pending"] else None
        else:
            raise CommandError("Name ICE's participating agencies file, or use --bundled.")
        as_of = _date(options["as_of"]) if options["as_of"] else None
        try:
            result = ice_lists_import(
                participating=participating,
                pending=pending,
                as_of=as_of,
                dry_run=options["dry_run"],
                force=options["force"],
            )
        except IMPORT_ERRORS as error:
            raise CommandError(str(error)) from None
        for line in import_report_lines(result.report, dry_run=result.dry_run):
            self.stdout.write(line)

    def handle_history(self, folder: Path, options):
        """Import the lists of ``folder`` one after the other; print one line per list."""
        if not folder.is_dir():
            raise CommandError(f"{folder} is not a folder.")
        names = [path.name for path in folder.iterdir() if path.is_file()]
        pairs = pair_history(history_order(names, ignore_unknown=True))
        if not pairs:
            raise CommandError(f"{folder} holds none of ICE's participating lists.")
        index, _ids = match_index()  # the places do not change during the replay
        started = time.monotonic()
        for pair in pairs:
            participating = _read(str(folder / pair.participating.name))
            pending = _read(str(folder / pair.pending.name)) if pair.pending else None
            latest = ImportSnapshot.objects.order_by("-as_of", "-imported_at").first()
            if latest and pair.participating.date < latest.as_of:
                self.stdout.write(
                    f"{pair.participating.name}: older than the latest import, skipped"
                )
                continue
            began = time.monotonic()
            try:
                result = ice_lists_import(
                    participating=participating,
                    pending=pending,
                    dry_run=options["dry_run"],
                    index=index,
                )
            except IMPORT_ERRORS as error:
                raise CommandError(f"{pair.participating.name}: {error}") from None
            report = result.report
            if report.identical_to:
                self.stdout.write(
                    f"{pair.participating.name}: same as import #{report.identical_to}"
                )
                continue
            newer = (
                f" (a newer list of that day, kept as {report.file_name})"
                if report.newer_of_day
                else ""
            )
            self.stdout.write(
                f"{pair.participating.name} + {pair.pending.name if pair.pending else '-'}{newer}: "
                f"{report.rows_read} rows, {report.agreements_in_list} agreements in the list "
                f"({report.duplicate_rows} repeated rows); +{len(report.diff.added)} "
                f"-{len(report.diff.ended)} ~{len(report.diff.changed)} "
                f"renamed {len(report.diff.renamed)}; active now {report.active_now}, pending "
                f"{report.pending_now}; unplaced rows {report.placements.unplaced}; "
                f"{report.places_flagged} places flagged; {time.monotonic() - began:.1f} s"
            )
        self.stdout.write(f"History imported in {time.monotonic() - started:.1f} s.")
