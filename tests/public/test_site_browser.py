"""The residents' site in a real browser: axe-core, reflow at 320 px, tap targets.

Debian's Chromium, driven by Playwright; the pages come from pytest-django's live server.
"""

import os
from pathlib import Path

import pytest

from tests.support.services import require_service

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(os.environ.get("SITE_SCREENSHOTS", "/tmp/site-screenshots"))
PAGES = ["", "places/ny/nassau-county/", "places/ny/", "search?q=11001", "search?q=zzzz",
         "287g", "report-a-crime", "your-rights", "about", "privacy", "no-such-page"]  # fmt: skip

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def browser():
    require_service(os.path.exists(CHROMIUM), "needs Debian's chromium (apt-get install chromium)")
    # Playwright's sync API runs an event loop in this thread; the live server's database
    # work happens in its own thread, but test setup here touches the ORM too.
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"],
        )  # fmt: skip
        yield chromium
        chromium.close()


@pytest.fixture
def site_content(transactional_db):
    """The demo content (guides, notes, local help, Nassau's two agreements) plus a pending
    agreement, so every part of the place page is checked. Places are reloaded when a
    transactional test earlier flushed them."""
    from django.core.management import call_command

    from assistant.models import Agency, Agreement, Place
    from assistant.places.services import places_load
    from tests.factories import AgreementFactory, ice_list_snapshot

    if not Place.objects.filter(abbreviation="NY").exists():
        places_load()
    call_command("load_demo", verbosity=0)
    # The demo's agreements stand for ICE's list of three days ago: pages answer from it.
    ice_list_snapshot(days_old=3)
    AgreementFactory(
        agency=Agency.objects.get(name="Nassau County Sheriff's Office"),
        enforcement_model=Agreement.EnforcementModel.JAIL_ENFORCEMENT,
        status=Agreement.Status.PENDING,
    )


def _page(browser, width=390):
    context = browser.new_context(
        viewport={"width": width, "height": 800}, java_script_enabled=True
    )
    page = context.new_page()
    outside = []

    def note_request(request):
        if not request.url.startswith(("http://localhost", "http://127.0.0.1", "data:")):
            outside.append(request.url)

    page.on("request", note_request)
    return context, page, outside


@pytest.mark.parametrize("language", ["en", "es", "ar"])
def test_axe_reports_no_violations_on_any_page_type(browser, live_server, site_content, language):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    context, page, outside = _page(browser)
    problems = {}
    for path in PAGES:
        page.goto(f"{live_server.url}/{language}/{path}")
        results = axe.run(page)
        violations = results.response["violations"]
        if violations:
            problems[path] = [
                (v["id"], [n["html"][:120] for n in v["nodes"][:3]]) for v in violations
            ]
        if path == "places/ny/nassau-county/":
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"place-{language}.png"), full_page=True)
    context.close()
    assert problems == {}
    assert outside == [], "a page asked another host for something"


@pytest.mark.parametrize("language", ["en", "ar"])
def test_layout_reflows_at_320_px_and_tap_targets_are_big_enough(
    browser, live_server, site_content, language
):
    context, page, _outside = _page(browser, width=320)
    for path in PAGES:
        page.goto(f"{live_server.url}/{language}/{path}")
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= 320, f"{path}: horizontal scroll ({scroll_width}px)"
        small = page.evaluate(
            """() => [...document.querySelectorAll('a[href], button, input')]
                .filter(el => el.offsetParent !== null && !el.classList.contains('skip'))
                .map(el => [el.outerHTML.slice(0, 80), el.getBoundingClientRect()])
                .filter(([_, r]) => r.width < 24 || r.height < 24)
                .map(([html, r]) => `${html} ${Math.round(r.width)}x${Math.round(r.height)}`)"""
        )
        assert small == [], f"{path}: tap targets under 24px: {small}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{live_server.url}/{language}/places/ny/nassau-county/")
    page.screenshot(path=str(SCREENSHOTS / f"place-320-{language}.png"), full_page=True)
    context.close()


def test_arabic_page_is_mirrored(browser, live_server, site_content):
    context, page, _outside = _page(browser)
    page.goto(f"{live_server.url}/ar/places/ny/nassau-county/")
    assert page.evaluate("document.documentElement.dir") == "rtl"
    # the answer's accent bar sits on the right in Arabic (border-inline-start)
    right = page.evaluate("getComputedStyle(document.querySelector('.answer')).borderRightWidth")
    left = page.evaluate("getComputedStyle(document.querySelector('.answer')).borderLeftWidth")
    assert right != "0px" and left == "0px"
    context.close()


def test_site_works_without_javascript(browser, live_server, site_content):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/es/")
    page.fill("#q", "11501")
    page.click("button[type=submit]")
    page.wait_for_url("**/es/places/ny/nassau-county/")
    assert "trabaja con ICE" in page.inner_text(".answer")
    page.click("a[hreflang=vi]")
    page.wait_for_url("**/vi/places/ny/nassau-county/")
    context.close()
