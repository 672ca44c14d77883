"""Four organizers in a real browser, under the Content-Security-Policy, each with their
authenticator app: flags → guide draft → review → publish → translate → stale → alert
written → approved by another → sent; and a Reviewer who rewrote an alert's Spanish text
cannot approve it.
"""

import datetime
import importlib
import shutil

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.utils import timezone

from assistant.alerts.models import Alert
from assistant.content.models import ReviewFlag
from assistant.content.review import review_flag_raise
from assistant.delivery.backends import locmem
from assistant.models import Guide, Place
from assistant.places.services import places_load
from assistant.sms.models import Subscription
from tests.factories import UserFactory, place
from tests.support.services import require_service
from tests.support.two_factor import totp_code, totp_device

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long test password 1"


def roles_as_migrated():
    """Make the role groups again: a transactional test's flush empties them."""
    wanted: dict[str, set[str]] = {}
    for module in ("0003_content_roles", "0006_admin_roles"):
        roles = importlib.import_module(f"assistant.migrations.{module}").ROLES
        for name, codenames in roles.items():
            wanted.setdefault(name, set()).update(codenames)
    for name, codenames in wanted.items():
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.set(
            Permission.objects.filter(content_type__app_label="assistant", codename__in=codenames)
        )


def organizer(username, *roles, languages=(), **fields):
    from assistant.models import TranslatorLanguage

    user = UserFactory(username=username, **fields)
    user.groups.add(*Group.objects.filter(name__in=roles))
    for code in languages:
        TranslatorLanguage.objects.create(user=user, language=code)
    totp_device(user)
    return user


class Browser:
    """One organizer's browser window, logged in with password and authenticator code."""

    def __init__(self, chromium, base, user, refused):
        self.base = base
        self.context = chromium.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.page.on(
            "console",
            lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
        )
        page = self.page
        page.goto(f"{base}/admin/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_url("**/admin/login/code/")
        code = totp_code(user.totpdevice_set.get())
        connection.close()
        page.fill("#id_otp_token", code)
        page.click("input[type=submit]")
        page.wait_for_url(f"{base}/admin/")

    def go(self, path):
        self.page.goto(f"{self.base}{path}")
        return self.page

    def button(self, label):
        self.page.get_by_role("button", name=label).first.click()
        self.page.wait_for_load_state()

    def text(self):
        return self.page.inner_text("body")


def test_four_organizers_take_a_changed_answer_to_an_alert(live_server, settings, monkeypatch):
    chromium_path = shutil.which("chromium")
    require_service(chromium_path is not None, "needs Debian's Chromium (apt install chromium)")
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    settings.SMS_BACKEND = "assistant.delivery.backends.locmem.LocmemBackend"
    locmem.outbox.clear()
    if not Place.objects.filter(abbreviation="NY").exists():
        places_load()  # an earlier transactional test flushed them
    roles_as_migrated()
    eddie = organizer("eddie", "Editor")
    rita = organizer("rita", "Reviewer")
    sam = organizer("sam", "Reviewer")
    tomas = organizer("tomas", "Translator", languages=("es",))
    olga = organizer("olga", is_superuser=True)

    nassau = place("NY", "Nassau County")
    for number, language in (("+15165550001", "en"), ("+15165550002", "es")):
        subscription = Subscription(place=nassau, language=language)
        subscription.set_number(number)
        subscription.save()
    Subscription.objects.update(created_at=timezone.now() - datetime.timedelta(days=3))
    # What the import raises: Nassau's answer changed, and other places' agreements.
    changed = review_flag_raise(place=nassau, reason=ReviewFlag.Reason.ANSWER_CHANGED,
                                detail="Nassau County Police Department: new task force agreement",
                                changed_on=timezone.localdate())  # fmt: skip
    for county in ("Suffolk County", "Westchester County", "Erie County"):
        review_flag_raise(place=place("NY", county), reason=ReviewFlag.Reason.AGREEMENTS_CHANGED)
    refused: list[str] = []
    base = live_server.url

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path)

        # The Editor: start page, the flags, a guide draft sent for review.
        editor = Browser(chromium, base, eddie, refused)
        start = editor.text()
        assert "Review flags (from the 287(g) import) (4)" in start
        assert "Stale or missing translations" not in start
        editor.page.screenshot(path="/tmp/admin-start-editor.png", full_page=True)
        editor.page.get_by_role(
            "link", name="See all 4 open flags, by U.S. state and place"
        ).click()
        editor.page.wait_for_url("**/reviewflag/**")
        assert "4 open flags." in editor.text() and "New York (4)" in editor.text()
        assert editor.page.evaluate("document.documentElement.scrollWidth") <= 1280
        editor.page.screenshot(path="/tmp/admin-flags.png", full_page=True)
        page = editor.go("/admin/assistant/guide/add/")
        page.click(".field-place .select2-selection")
        page.keyboard.type("Nassau")
        page.locator(".select2-results__option", has_text="Nassau County, NY").first.click()
        assert page.locator('textarea[name="meaning_here_fr"]').count() == 0
        page.fill('textarea[name="meaning_here_en"]', "Two agencies here work with ICE.")
        page.fill('input[name="last_verified_on"]', "2026-11-01")
        page.fill('input[name="sources-0-url"]', "https://www.ice.gov/identify-and-arrest/287g")
        page.fill('input[name="sources-0-title"]', "ICE 287(g) page")
        page.fill('input[name="sources-0-accessed_on"]', "2026-11-01")
        page.click('input[name="_continue"]')
        page.wait_for_load_state()
        editor.button("Send for review")
        assert "sent for review" in editor.text()
        assert Guide.objects.get(place=nassau).status == Guide.Status.IN_REVIEW

        # A Reviewer publishes it from the start page; the place's flag closes.
        reviewer = Browser(chromium, base, rita, refused)
        reviewer.page.get_by_role("link", name="Nassau County, NY (in review)").click()
        reviewer.button("Publish")
        assert "published" in reviewer.text()
        changed.refresh_from_db()
        assert changed.resolved_at is not None

        # The Translator sees only Spanish, translates and publishes from the edit page.
        translator = Browser(chromium, base, tomas, refused)
        start = translator.text()
        assert "Spanish: missing" in start and "French" not in start
        translator.page.screenshot(path="/tmp/admin-start-translator.png", full_page=True)
        translator.page.get_by_role("link", name="Nassau County, NY (published)").first.click()
        translator.button("Start a new draft")
        translator.page.fill(
            'textarea[name="meaning_here_es"]', "Dos agencias aquí trabajan con ICE."
        )
        translator.page.click('input[name="_continue"]')
        translator.page.wait_for_load_state()
        translator.button("Approve and publish the translation (English unchanged)")
        assert "translation approved and published" in translator.text()

        # The Editor changes the English; once published, the Spanish is stale.
        editor.go("/admin/assistant/guide/")
        editor.page.get_by_role("link", name="Nassau County, NY", exact=True).click()
        editor.button("Start a new draft")
        editor.page.fill('textarea[name="meaning_here_en"]', "Two agencies here work with ICE now.")
        editor.page.click('input[name="_continue"]')
        editor.page.wait_for_load_state()
        editor.button("Send for review")
        reviewer.go("/admin/")
        reviewer.page.get_by_role("link", name="Nassau County, NY (in review)").click()
        reviewer.button("Publish")
        translator.go("/admin/")
        assert "Spanish: stale" in translator.text()

        # The Editor writes the alert the start page proposes.
        editor.go("/admin/")
        editor.button("Write an alert")
        assert "Alert drafted" in editor.text()
        alert = Alert.objects.get()

        # Rita rewrites its Spanish text, so she cannot approve it.
        reviewer.go(f"/admin/assistant/alert/{alert.pk}/change/")
        spanish = reviewer.page.locator("textarea[name$='-body']").nth(1)
        spanish.fill("Actualización para el condado de Nassau (texto de Rita). Responda STOP.")
        reviewer.page.click('input[name="_continue"]')
        reviewer.page.wait_for_load_state()
        assert "so someone else must approve it" in reviewer.text()
        assert reviewer.page.get_by_role("button", name="Approve and send").count() == 0
        alert.refresh_from_db()
        assert alert.status == Alert.Status.DRAFT

        # Sam approves it; every subscriber gets it in their language.
        approver = Browser(chromium, base, sam, refused)
        approver.go(f"/admin/assistant/alert/{alert.pk}/change/")
        approver.button("Approve and send")
        alert.refresh_from_db()
        assert alert.status == Alert.Status.SENT and alert.approved_by == sam
        assert len(locmem.outbox) == 2

        # The operator: the start page, the SMS simulator wraps a long reply.
        operator = Browser(chromium, base, olga, refused)
        operator.page.screenshot(path="/tmp/admin-start-operator.png", full_page=True)
        operator.page.get_by_role("link", name="Try the SMS bot (simulator)").click()
        operator.page.fill("#id_text", "11550")
        operator.page.get_by_role("button", name="Send").click()
        operator.page.wait_for_load_state()
        reply = operator.page.locator("pre.sms-out").first
        assert reply.evaluate("e => getComputedStyle(e).whiteSpace") == "pre-wrap"
        assert operator.page.evaluate("document.documentElement.scrollWidth") <= 1280
        chromium.close()

    assert refused == []
