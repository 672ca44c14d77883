"""Two-factor devices for staff: enrolling an authenticator app, checking codes, resetting."""

from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

ENROLLMENT_DEVICE_NAME = "Authenticator app"


def totp_device_for_login(*, user) -> TOTPDevice | None:
    """Return the user's confirmed authenticator-app device, or None if they have none."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


@transaction.atomic
def totp_enrollment_start(*, user) -> TOTPDevice | None:
    """Create a new, unconfirmed authenticator-app device for a user who has none.

    Any earlier unconfirmed device of this user is deleted, so an abandoned enrollment
    leaves no usable secret behind. Return None if the user already has a confirmed device:
    a second device is never added through the login pages.
    """
    if TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).exists():
        return None
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=ENROLLMENT_DEVICE_NAME, confirmed=False)


@transaction.atomic
def totp_enrollment_confirm(*, device: TOTPDevice, token: str) -> bool:
    """Confirm ``device`` if ``token`` is its current code; return whether it was confirmed.

    Refuse when the user meanwhile confirmed another device.
    """
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
    if device.confirmed:
        return False
    if TOTPDevice.objects.filter(user_id=device.user_id, confirmed=True).exists():
        return False
    if not device.verify_token(token):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return True


def totp_token_check(*, device: TOTPDevice, token: str) -> bool:
    """Return whether ``token`` is a valid code for ``device`` now.

    A code is accepted once (the device remembers the last time step it accepted), and
    repeated wrong codes slow the device down (django-otp's throttling).
    """
    return bool(token) and device.verify_token(token)


@transaction.atomic
def totp_devices_reset(*, user) -> int:
    """Delete every authenticator-app device of ``user``; return how many were deleted.

    The user enrolls a new one the next time they log in with their password.
    """
    deleted, _by_model = TOTPDevice.objects.filter(user=user).delete()
    return deleted
