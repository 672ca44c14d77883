"""``manage.py load_demo``: demo content for five places, with real public sources."""

from django.core.management.base import BaseCommand

from assistant.demo.services import demo_content_load


class Command(BaseCommand):
    help = "Load demo content (idempotent: running it twice changes nothing)."

    def handle(self, *args, **options):
        report = demo_content_load()
        if report.created:
            self.stdout.write(f"Demo content loaded: {report.created} new items.")
        else:
            self.stdout.write("Demo content already loaded: nothing changed.")
