"""The organizers' second factor in tests: a confirmed authenticator app and its codes."""


def totp_device(user):
    """Return the user's confirmed authenticator-app device, creating one if needed."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="Test phone", confirmed=True)


def totp_code(device) -> str:
    """Return the code the device's authenticator app shows now."""
    from django_otp.oath import totp

    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    return str(code).zfill(device.digits)


def admin_session_login(client, user):
    """Log ``user`` into the admin with ``client``, second factor included; return the client.

    What django_otp.login() does once the code step accepts a code: the session remembers
    the device, and OTPMiddleware marks the user verified from it.
    """
    from django_otp import DEVICE_ID_SESSION_KEY

    device = totp_device(user)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client
