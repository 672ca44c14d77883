import os

from django.core.management.base import BaseCommand, CommandError

from assistant.ops.key_rotation import KeyRotationError, phone_hash_key_rotate


class Command(BaseCommand):
    help = (
        "Re-key stored data after PHONE_HASH_KEY changed. Set the new key first; give the old "
        "one in the OLD_PHONE_HASH_KEY environment variable (or --old-key)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--old-key",
            default=None,
            help="The previous PHONE_HASH_KEY. Prefer OLD_PHONE_HASH_KEY: arguments show in ps.",
        )

    def handle(self, *args, old_key=None, **options):
        old_key = old_key or os.environ.get("OLD_PHONE_HASH_KEY", "")
        if not old_key:
            raise CommandError("Give the previous key: OLD_PHONE_HASH_KEY=... or --old-key ...")
        try:
            report = phone_hash_key_rotate(old_key=old_key)
        except KeyRotationError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Dropped {report.conversations_dropped} conversation(s) and "
            f"{report.inbound_dropped} inbound record(s). Re-hashed "
            f"{report.subscriptions_rehashed} subscription(s), {report.opt_outs_rehashed} "
            f"opt-out(s) and {report.outbound_rehashed} unsent message(s). "
            f"{report.opt_outs_without_number} carrier opt-out(s) have no number to re-hash."
        )
