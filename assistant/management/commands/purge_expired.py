from django.core.management.base import BaseCommand

from assistant.ops.retention import purge_expired


class Command(BaseCommand):
    help = "Delete expired conversation state, answered inbound records and old outbound rows."

    def handle(self, *args, **options):
        report = purge_expired()
        self.stdout.write(
            f"Deleted {report.conversations} conversation(s) and {report.inbound} inbound "
            f"record(s); wiped {report.outbound_wiped} and deleted {report.outbound_deleted} "
            "outbound message(s)."
        )
