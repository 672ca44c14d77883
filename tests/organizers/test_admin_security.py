"""Organizer admin security: two-factor login, lockout, client IP, CSP, CSRF, cookies."""

import json
from html.parser import HTMLParser

import pytest
import time_machine
from axes.models import AccessAttempt
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, path
from django.views.decorators.csrf import csrf_exempt
from django_otp.plugins.otp_totp.models import TOTPDevice

from assistant.ops.client_ip import client_ip
from assistant.sms.webhooks import twilio_webhook
from tests.factories import UserFactory
from tests.privacy_checks import admin_pages, assert_no_phone_number
from tests.support.production import PRODUCTION_ENV, manage
from tests.support.two_factor import totp_code, totp_device

PASSWORD = "a long test password 1"
LOGIN = "/admin/login/"
pytestmark = pytest.mark.django_db


def password_step(client, username, password=PASSWORD, **extra):
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def admin_urls(user):
    return [
        "/admin/",
        "/admin/auth/user/",
        "/admin/auth/user/add/",
        f"/admin/auth/user/{user.pk}/change/",
        "/admin/auth/group/",
        "/admin/otp_totp/totpdevice/",
        "/admin/password_change/",
        "/admin/jsi18n/",
    ]


def assert_sent_to_login(client, urls):
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(LOGIN), (url, response["Location"])


# Two-factor login


def test_first_login_enrolls_an_authenticator_app_and_needs_a_right_code(client):
    with time_machine.travel("2030-01-01 12:00:05Z", tick=False) as clock:
        user = UserFactory(username="ana", is_superuser=True)
        response = password_step(client, "ana")
        assert response["Location"] == "/admin/login/enroll/"

        page = client.get("/admin/login/enroll/")
        html = page.content.decode()
        assert page.status_code == 200
        assert "<svg" in html and "scan this QR code" in html
        device = TOTPDevice.objects.get(user=user)
        assert not device.confirmed
        # The key shown for typing in by hand is the device's secret, in base32.
        assert page.context["secret"].replace(" ", "") in device.config_url
        assert_sent_to_login(client, admin_urls(user))

        wrong = client.post("/admin/login/enroll/", {"otp_token": "000000"})
        assert wrong.status_code == 200
        assert "That code is not right" in wrong.content.decode()
        device.refresh_from_db()
        assert not device.confirmed
        # After a wrong code django-otp makes the device wait a moment before the next try.
        clock.shift(2)
        right = client.post("/admin/login/enroll/", {"otp_token": totp_code(device)})
        assert right.status_code == 302
        assert right["Location"] == "/admin/"
        device.refresh_from_db()
        assert device.confirmed
        assert client.get("/admin/").status_code == 200
        assert client.get("/admin/auth/user/").status_code == 200


def test_reloading_the_enrollment_page_keeps_the_same_secret(client):
    UserFactory(username="ana")
    password_step(client, "ana")
    first = client.get("/admin/login/enroll/").context["secret"]
    assert client.get("/admin/login/enroll/").context["secret"] == first
    assert TOTPDevice.objects.count() == 1


def test_a_staff_member_with_an_app_gets_the_code_step_and_cannot_enroll_another(client):
    user = UserFactory(username="ben", is_superuser=True)
    device = totp_device(user)
    response = password_step(client, "ben")
    assert response["Location"] == "/admin/login/code/"
    assert client.get("/admin/login/enroll/")["Location"] == "/admin/login/code/"
    assert TOTPDevice.objects.filter(user=user).count() == 1

    assert_sent_to_login(client, admin_urls(user))
    response = client.post("/admin/login/code/", {"otp_token": totp_code(device)})
    assert response["Location"] == "/admin/"
    for url in admin_urls(user):
        assert client.get(url).status_code == 200, url


def test_a_code_is_accepted_only_once(client):
    user = UserFactory(username="ben")
    device = totp_device(user)
    code = totp_code(device)
    password_step(client, "ben")
    assert client.post("/admin/login/code/", {"otp_token": code}).status_code == 302
    client.logout()
    password_step(client, "ben")
    replay = client.post("/admin/login/code/", {"otp_token": code})
    assert replay.status_code == 200
    assert "That code is not right" in replay.content.decode()
    assert_sent_to_login(client, ["/admin/"])


def test_the_login_returns_to_the_page_that_asked_for_it(client):
    user = UserFactory(username="ben")
    device = totp_device(user)
    assert client.get("/admin/auth/group/")["Location"] == "/admin/login/?next=/admin/auth/group/"
    client.post(
        "/admin/login/?next=/admin/auth/group/",
        {"username": "ben", "password": PASSWORD, "next": "/admin/auth/group/"},
    )
    response = client.post("/admin/login/code/", {"otp_token": totp_code(device)})
    assert response["Location"] == "/admin/auth/group/"


def test_a_password_alone_reaches_no_admin_page(client):
    user = UserFactory(username="cai")
    totp_device(user)
    assert password_step(client, "cai")["Location"] == "/admin/login/code/"
    assert_sent_to_login(client, admin_urls(user))


def test_a_session_logged_in_without_a_second_factor_reaches_no_admin_page(client):
    user = UserFactory(username="cai", is_superuser=True)
    totp_device(user)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    assert_sent_to_login(client, admin_urls(user))


def test_the_code_step_without_the_password_step_goes_back_to_the_password(client):
    user = UserFactory(username="dee")
    device = totp_device(user)
    response = client.post("/admin/login/code/", {"otp_token": totp_code(device)})
    assert response["Location"] == LOGIN
    assert client.get("/admin/login/enroll/")["Location"] == LOGIN
    assert_sent_to_login(client, ["/admin/"])


def test_the_code_step_expires_after_five_minutes(client):
    user = UserFactory(username="dee")
    device = totp_device(user)
    with time_machine.travel("2030-01-01 12:00:00Z", tick=False) as clock:
        password_step(client, "dee")
        clock.shift(5 * 60 + 1)
        response = client.post("/admin/login/code/", {"otp_token": totp_code(device)})
    assert response["Location"] == LOGIN


def test_a_wrong_password_never_reaches_the_code_step(client):
    UserFactory(username="eve")
    response = password_step(client, "eve", password="not the password")
    assert response.status_code == 200
    assert client.get("/admin/login/code/")["Location"] == LOGIN
    assert client.get("/admin/login/enroll/")["Location"] == LOGIN


def test_a_non_staff_user_cannot_start_two_factor_login(client):
    UserFactory(username="resident", is_staff=False)
    assert password_step(client, "resident").status_code == 200
    assert client.get("/admin/login/enroll/")["Location"] == LOGIN
    assert not TOTPDevice.objects.exists()


def test_the_admin_login_fixture_gives_a_verified_session(client, admin_login):
    user = UserFactory(username="fay", is_superuser=True)
    admin_login(client, user)
    for url in admin_urls(user):
        assert client.get(url).status_code == 200, url


def test_the_operator_command_resets_a_lost_phone(client):
    from django.core.management import call_command

    user = UserFactory(username="gus")
    totp_device(user)
    call_command("two_factor_reset", "gus")
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert password_step(client, "gus")["Location"] == "/admin/login/enroll/"


def test_the_device_admin_does_not_show_the_secret(client, admin_login):
    user = UserFactory(username="fay", is_superuser=True)
    admin_login(client, user)
    device = TOTPDevice.objects.get(user=user)
    page = client.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/").content.decode()
    assert device.key not in page


# Lockout


def test_five_wrong_passwords_lock_that_username_from_that_ip(client, settings):
    user = UserFactory(username="hal")
    totp_device(user)
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        assert password_step(client, "hal", password="wrong").status_code == 200
    locked = password_step(client, "hal", password="wrong")
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    # Even the right password is refused now, from this address.
    assert password_step(client, "hal").status_code == 429
    # The same username from another address, and another username from this one, go on.
    assert password_step(client, "hal", REMOTE_ADDR="198.51.100.7").status_code == 302
    UserFactory(username="ivy")
    assert password_step(client, "ivy").status_code == 302


def test_wrong_codes_count_toward_the_lockout(client, settings):
    user = UserFactory(username="hal")
    device = totp_device(user)
    password_step(client, "hal")
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        assert client.post("/admin/login/code/", {"otp_token": "000000"}).status_code == 200
    assert client.post("/admin/login/code/", {"otp_token": "000000"}).status_code == 429
    # A right code now only leads back to the password step, which is locked too.
    response = client.post("/admin/login/code/", {"otp_token": totp_code(device)})
    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert password_step(client, "hal").status_code == 429
    assert_sent_to_login(client, ["/admin/"])


def test_wrong_enrollment_codes_count_toward_the_lockout(client, settings):
    UserFactory(username="hal")
    password_step(client, "hal")
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        response = client.post("/admin/login/enroll/", {"otp_token": "000000"})
    assert response.status_code == 429
    assert not TOTPDevice.objects.filter(confirmed=True).exists()


def test_a_spoofed_forwarded_for_does_not_escape_the_lockout_without_a_proxy(client, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    UserFactory(username="hal")
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        password_step(client, "hal", password="wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{attempt}")
    response = password_step(client, "hal", HTTP_X_FORWARDED_FOR="203.0.113.200")
    assert response.status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"127.0.0.1"}


def test_behind_one_proxy_the_lockout_follows_the_forwarded_client(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    UserFactory(username="hal")
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        password_step(client, "hal", password="wrong", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.9"}
    assert password_step(client, "hal", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 429
    # Another client behind the same proxy is not locked out.
    assert password_step(client, "hal", HTTP_X_FORWARDED_FOR="203.0.113.10").status_code == 302


@pytest.mark.parametrize(
    ("trusted", "forwarded", "expected"),
    [
        (0, None, "192.0.2.1"),
        (0, "203.0.113.9", "192.0.2.1"),
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "6.6.6.6, 203.0.113.9", "203.0.113.9"),
        (1, None, "192.0.2.1"),
        (1, "not-an-ip", "192.0.2.1"),
        (2, "6.6.6.6, 203.0.113.9, 10.0.0.2", "203.0.113.9"),
        (2, "203.0.113.9", "192.0.2.1"),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_ip_trusts_only_the_configured_proxies(settings, trusted, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = trusted
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.1", **headers)
    assert client_ip(request) == expected


# Content-Security-Policy


def csp_directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def assert_strict_csp(response, url):
    assert "Content-Security-Policy" in response, url
    directives = csp_directives(response)
    assert directives["default-src"] == ["'self'"], url
    assert directives["frame-ancestors"] == ["'none'"], url
    assert directives["form-action"] == ["'self'"], url
    assert directives["base-uri"] == ["'none'"], url
    assert "unsafe-inline" not in response["Content-Security-Policy"], url
    assert "unsafe-eval" not in response["Content-Security-Policy"], url


def test_every_kind_of_response_carries_the_policy(client, admin_login):
    for url in ["/en/", "/healthz", LOGIN, "/admin/login/code/", "/no-such-page/", "/es/"]:
        assert_strict_csp(client.get(url), url)
    user = UserFactory(username="jo", is_superuser=True)
    admin_login(client, user)
    for url in admin_urls(user):
        assert_strict_csp(client.get(url), url)


class InlineCodeFinder(HTMLParser):
    """Collect what a CSP without 'unsafe-inline' would block: inline scripts and styles."""

    def __init__(self):
        super().__init__()
        self.blocked: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and "src" not in attrs and attrs.get("type") != "application/json":
            self.blocked.append("inline <script>")
        if tag == "style":
            self.blocked.append("<style> element")
        for name, value in attrs.items():
            if name == "style":
                self.blocked.append(f"style attribute on <{tag}>")
            if name.startswith("on"):
                self.blocked.append(f"{name} handler on <{tag}>")
            if name in ("href", "src", "action") and (value or "").startswith("javascript:"):
                self.blocked.append(f"javascript: URL on <{tag}>")


def inline_code(response) -> list[str]:
    finder = InlineCodeFinder()
    finder.feed(response.content.decode())
    return finder.blocked


def test_the_admin_pages_need_nothing_the_policy_blocks(client, admin_login):
    user = UserFactory(username="kim", is_superuser=True)
    anonymous_pages = {LOGIN: client.get(LOGIN)}
    UserFactory(username="new")
    password_step(client, "new")
    anonymous_pages["/admin/login/enroll/"] = client.get("/admin/login/enroll/")
    client.logout()
    admin_login(client, user)
    pages = {
        **anonymous_pages,
        **{url: client.get(url) for url in admin_urls(user)},
        "/admin/auth/user/?q=kim": client.get("/admin/auth/user/?q=kim"),
    }
    for url, response in pages.items():
        assert response.status_code == 200, url
        assert inline_code(response) == [], url


def test_the_finder_sees_what_the_policy_would_block():
    class Page:
        content = b'<p style="x"></p><script>alert(1)</script><a onclick="x" href="javascript:x">'

    assert len(inline_code(Page())) == 4


def test_an_organizer_can_save_a_change_form_under_the_policy(client, admin_login):
    user = UserFactory(username="lou", is_superuser=True)
    other = UserFactory(username="max", first_name="Max")
    admin_login(client, user)
    form = client.get(f"/admin/auth/user/{other.pk}/change/")
    assert form.status_code == 200
    data = {
        "username": "max",
        "first_name": "Maxine",
        "last_name": "",
        "email": "max@example.org",
        "is_active": "on",
        "is_staff": "on",
        "date_joined_0": "2030-01-01",
        "date_joined_1": "12:00:00",
        "initial-date_joined_0": "2030-01-01",
        "initial-date_joined_1": "12:00:00",
        "_save": "Save",
    }
    response = client.post(f"/admin/auth/user/{other.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert_strict_csp(response, "change form POST")
    other.refresh_from_db()
    assert other.first_name == "Maxine"


# CSRF


def csrf_exempt_views(patterns, prefix=""):
    """Yield (route, callback) for every csrf_exempt view reachable from ``patterns``."""
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from csrf_exempt_views(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and getattr(pattern.callback, "csrf_exempt", False):
            yield route, pattern.callback


def _guard_code():
    return twilio_webhook(lambda request: None).__wrapped__.__code__


def is_twilio_webhook(callback) -> bool:
    """Return whether ``callback`` went through assistant.sms.webhooks.twilio_webhook."""
    guard = _guard_code()
    while callback is not None:
        if getattr(callback, "__code__", None) is guard:
            return True
        callback = getattr(callback, "__wrapped__", None)
    return False


def test_only_the_twilio_webhooks_are_csrf_exempt():
    exempt = list(csrf_exempt_views(get_resolver().url_patterns))
    unguarded = [route for route, callback in exempt if not is_twilio_webhook(callback)]
    assert unguarded == [], f"csrf_exempt outside the Twilio webhook guard: {unguarded}"
    # The two SMS webhooks and the voice line's (DESIGN.md: "signature checked like SMS").
    assert sorted(route for route, _callback in exempt) == [
        "sms/inbound",
        "sms/status",
        "voice/inbound",
    ]


def test_the_csrf_walk_finds_an_exempt_view_and_tells_it_from_the_webhook_guard():
    def view(request):
        return None

    patterns = [
        path("plain/", view),
        path("exempt/", csrf_exempt(view)),
        path("sms/inbound", twilio_webhook(view)),
    ]
    exempt = dict(csrf_exempt_views(patterns))
    assert set(exempt) == {"exempt/", "sms/inbound"}
    assert not is_twilio_webhook(exempt["exempt/"])
    assert is_twilio_webhook(exempt["sms/inbound"])


# Production settings


def test_production_cookies_are_secure_and_hsts_is_on():
    code = (
        "import json; from django.conf import settings as s; print(json.dumps({k: getattr(s, k) "
        "for k in ['SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SESSION_COOKIE_HTTPONLY', "
        "'CSRF_COOKIE_HTTPONLY', 'SECURE_HSTS_SECONDS', 'SECURE_HSTS_INCLUDE_SUBDOMAINS', "
        "'SECURE_SSL_REDIRECT', 'TRUSTED_PROXY_COUNT', 'X_FRAME_OPTIONS']}))"
    )
    result = manage("shell", "-c", code, env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values == {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "CSRF_COOKIE_HTTPONLY": True,
        "SECURE_HSTS_SECONDS": 365 * 24 * 60 * 60,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_SSL_REDIRECT": True,
        "TRUSTED_PROXY_COUNT": 1,
        "X_FRAME_OPTIONS": "DENY",
    }


def test_a_bad_trusted_proxy_count_stops_start_up():
    result = manage("check", env={**PRODUCTION_ENV, "TRUSTED_PROXY_COUNT": "one"})
    assert result.returncode != 0
    assert "TRUSTED_PROXY_COUNT must be a whole number" in result.stderr


# Phone numbers


def test_no_admin_page_shows_a_phone_number(client, admin_login):
    from assistant.models import OptOut
    from assistant.privacy import phone_hash

    numbers = ["+15555550123", "+13055550199"]
    for number in numbers:
        OptOut.objects.create(phone_hash=phone_hash(number), source=OptOut.Source.KEYWORD)
    admin_login(client, UserFactory(username="ned", is_superuser=True))
    seen = 0
    for url, response in admin_pages(client):
        assert response.status_code == 200, url
        assert_no_phone_number(response.content.decode(), numbers, where=url)
        seen += 1
    assert seen >= 5


def test_the_phone_number_check_catches_a_formatted_number():
    with pytest.raises(AssertionError):
        assert_no_phone_number("call (555) 555-0123 now", ["+15555550123"])
