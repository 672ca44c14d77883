"""The admin in a real browser under the Content-Security-Policy: nothing is refused."""

import shutil

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import UserFactory
from tests.support.services import require_service
from tests.support.two_factor import totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_organizer_logs_in_with_two_factor_and_edits_a_user_under_the_policy(
    live_server, monkeypatch
):
    chromium = shutil.which("chromium")
    require_service(chromium is not None, "needs Debian's Chromium (apt install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the database calls below are
    # ordinary blocking calls between browser steps.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    UserFactory(username="olga", is_superuser=True)
    other = UserFactory(username="pat", first_name="Pat")
    refused: list[str] = []

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        page = browser.new_page()
        page.on(
            "console",
            lambda message: (
                refused.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )
        page.goto(f"{live_server.url}/admin/")
        page.fill("#id_username", "olga")
        page.fill("#id_password", "a long test password 1")
        page.click("input[type=submit]")
        page.wait_for_url("**/admin/login/enroll/")
        assert page.locator("figure svg").is_visible()
        device = TOTPDevice.objects.get(user__username="olga")
        code = totp_code(device)
        # Playwright runs this block in a greenlet, which gets its own database connection;
        # close it so that the test database can be dropped at the end.
        connection.close()
        page.fill("#id_otp_token", code)
        page.click("input[type=submit]")
        page.wait_for_url(f"{live_server.url}/admin/")

        page.goto(f"{live_server.url}/admin/auth/user/")
        assert page.locator("#result_list").is_visible()
        # The action bar's "select all" checkbox is driven by admin JavaScript.
        page.check("#action-toggle")
        assert page.locator("input.action-select:checked").count() == 2

        page.goto(f"{live_server.url}/admin/auth/user/{other.pk}/change/")
        # The date shortcuts ("Today", calendar) are added by admin JavaScript.
        assert page.locator(".datetimeshortcuts").first.is_visible()
        page.fill("#id_first_name", "Patricia")
        page.click("input[name=_save]")
        page.wait_for_url(f"{live_server.url}/admin/auth/user/")
        assert "changed successfully" in page.content()
        browser.close()

    assert get_user_model().objects.get(pk=other.pk).first_name == "Patricia"
    assert refused == []
