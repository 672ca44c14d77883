from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from assistant.organizers.two_factor import totp_devices_reset


class Command(BaseCommand):
    help = (
        "Remove a staff member's authenticator app (lost phone). They set up a new one "
        "the next time they log in with their password."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = get_user_model()._default_manager.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        deleted = totp_devices_reset(user=user)
        self.stdout.write(
            f"Removed {deleted} authenticator app(s) of {username}. At the next login they "
            "will set up a new one."
        )
