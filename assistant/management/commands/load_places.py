from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from assistant.places.services import places_load


class Command(BaseCommand):
    help = _("Add any missing states, counties and ZIP codes (the migrations load them too).")

    def handle(self, *args, **options):
        report = places_load()
        self.stdout.write(
            _(
                "States: %(states)d. Counties: %(counties)d. Cities and towns: %(cities)d. "
                "ZIP codes: %(zips)d (%(pairs)d ZIP-county pairs)."
            )
            % {
                "states": report.states,
                "counties": report.counties,
                "zips": report.zip_codes,
                "pairs": report.zip_county_pairs,
                "cities": report.cities,
            }
        )
