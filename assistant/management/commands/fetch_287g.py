"""Check ICE's 287(g) page and import a new list: ``manage.py fetch_287g``.

A list that fails the quality gate is held for an organizer (the admin start page shows it).
"""

from django.core.management.base import BaseCommand, CommandError

from assistant.ice_import.services import ice_lists_fetch


class Command(BaseCommand):
    help = (
        "Read ICE's 287(g) page (ICE_287G_PAGE_URL), download the lists not seen before, and "
        "import each one, or hold it for an organizer when it looks broken."
    )

    def handle(self, *args, **options):
        outcome = ice_lists_fetch()
        if outcome.error:
            raise CommandError(outcome.error)
        for result in outcome.applied:
            report = result.report
            self.stdout.write(
                f"Imported {report.file_name} (list of {report.as_of}): "
                f"{report.active_now} agreements in force."
            )
        for held in outcome.held:
            self.stdout.write(f"Held {held.file_name}: " + " ".join(held.reasons))
        if not outcome.applied and not outcome.held:
            self.stdout.write("Nothing new on ICE's page.")
