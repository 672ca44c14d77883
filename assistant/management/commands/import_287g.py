"""Import ICE's published 287(g) lists: ``manage.py import_287g PARTICIPATING.xlsx``."""

import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from assistant.ice_import.bundled import bundled_list_is_new, bundled_lists_newest
from assistant.ice_import.report import import_report_lines
from assistant.ice_import.services import ImportRefused, ice_lists_import
from assistant.ice_import.sheets import SheetError, SheetFile


def _read(path: str) -> SheetFile:
    file = Path(path)
    try:
        return SheetFile(name=file.name, data=file.read_bytes())
    except OSError as error:
        raise CommandError(f"Cannot read {path}: {error.strerror}.") from None


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
        except (SheetError, ImportRefused) as error:
            raise CommandError(str(error)) from None
        for line in import_report_lines(result.report, dry_run=result.dry_run):
            self.stdout.write(line)
