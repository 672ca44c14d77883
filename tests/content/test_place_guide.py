"""The place page shows the published guide, the laws that govern the place and local help."""

import datetime
import gzip
import re

import pytest
from django.core.management import call_command
from django.utils import translation
from django.utils.translation import gettext

from assistant.content.services import (
    content_new_draft,
    content_publish,
    content_save,
    content_submit,
    translation_approve,
)
from assistant.models import Guide
from tests.factories import add_source, place

pytestmark = pytest.mark.django_db

NASSAU = "places/ny/nassau-county/"


def page(client, language: str, path: str = NASSAU) -> str:
    response = client.get(f"/{language}/{path}")
    assert response.status_code == 200
    return response.content.decode()


def in_language(page_language: str, msgid: str, **values) -> str:
    """Return an interface string as the page renders it in ``language``."""
    with translation.override(page_language):
        text = gettext(msgid)
        names = {
            key: translation.get_language_info(code)["name_translated"]
            for key, code in values.items()
        }
    return text % names if names else text


def publish(guide, root, reviewer, *, commit_hooks):
    content_save(obj=guide, user=root)
    if not guide.sources.filter(section="").exists():
        add_source(guide)
    content_submit(obj=guide, user=root)
    with commit_hooks(execute=True):
        return content_publish(obj=guide, user=reviewer)


def nassau_guide(**fields):
    values = {
        "place": place("NY", "Nassau County"),
        "meaning_here_en": "Two agencies here work with ICE.",
        "reporting_en": "Call 911 in an emergency. You can also report online.",
        "interpreters_en": "Ask for an interpreter. It is free.",
        "your_rights_en": "You have the right to stay silent.",
        "non_emergency_number": "(516) 573-8800",
        "language_line_number": "1-800-555-0100",
        "online_report_url": "https://www.pdcn.org/report",
        "last_verified_on": datetime.date(2026, 11, 1),
    }
    return Guide(**{**values, **fields})


def test_place_page_shows_the_guide_numbers_and_sources_after_the_answer(
    client, root, reviewer, django_capture_on_commit_callbacks
):
    guide = nassau_guide()
    content_save(obj=guide, user=root)
    add_source(guide, section="interpreters")
    publish(guide, root, reviewer, commit_hooks=django_capture_on_commit_callbacks)
    body = page(client, "en")

    answer = body.index('<p class="answer')
    for title, text in [
        ("What 287(g) means here", "Two agencies here work with ICE."),
        ("How to report a crime", "You can also report online."),
        ("Interpreters", "Ask for an interpreter. It is free."),
        ("Your rights", "You have the right to stay silent."),
    ]:
        assert re.search(rf"<h2 [^>]*>{re.escape(title)}</h2>", body), title
        assert body.index(text) > answer
    assert "Will they ask about immigration status?" not in body  # no text for it
    assert '<a href="tel:5165738800"><bdi dir="ltr">(516) 573-8800</bdi></a>' in body
    assert '<a href="tel:18005550100"><bdi dir="ltr">1-800-555-0100</bdi></a>' in body
    assert 'href="https://www.pdcn.org/report"' in body
    interpreters = body[body.index('id="g-interpreters"') : body.index('id="g-your_rights"')]
    assert "ICE 287(g) page" in interpreters and 'datetime="2026-11-01"' in interpreters
    assert re.search(r"Last checked by an organizer on <time datetime=\"2026-11-01\">", body)
    assert "has not checked this translation" not in body  # English is the reviewed source
    assert "Demo content" not in body


def test_haitian_creole_falls_back_to_french_then_english_and_says_so(
    client, root, reviewer, settings, django_capture_on_commit_callbacks
):
    settings.CONTENT_FALLBACK_LANGUAGES = {"default": ["en"], "ht": ["fr", "en"]}
    guide = nassau_guide(your_rights_fr="Vous avez le droit de garder le silence.")
    publish(guide, root, reviewer, commit_hooks=django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        translation_approve(obj=guide, language="fr", user=root)
    body = page(client, "ht")

    rights = body[body.index('id="g-your_rights"') :]
    assert '<div lang="fr"><p>Vous avez le droit de garder le silence.</p></div>' in rights
    assert in_language("ht", "Not translated into your language yet. Shown in %(language)s.",
                       language="fr") in rights  # fmt: skip
    meaning = body[body.index('id="g-meaning_here"') : body.index('id="g-reporting"')]
    assert '<div lang="en"><p>Two agencies here work with ICE.</p></div>' in meaning
    assert in_language("ht", "Not translated into your language yet. Shown in %(language)s.",
                       language="en") in meaning  # fmt: skip
    # French was checked by a person, English is the source: no "unchecked" notice.
    assert in_language("ht", "A person has not checked this translation yet. Some words may "
                       "be wrong.") not in body[body.index("</h1>") :]  # fmt: skip


def test_arabic_page_marks_english_text_left_to_right(
    client, root, reviewer, django_capture_on_commit_callbacks
):
    publish(nassau_guide(), root, reviewer, commit_hooks=django_capture_on_commit_callbacks)
    body = page(client, "ar")
    assert '<div lang="en" dir="ltr"><p>You have the right to stay silent.</p></div>' in body
    assert '<a href="tel:911"><bdi dir="ltr">911</bdi></a>' in body


def test_unreviewed_and_stale_translations_are_announced_in_the_visitors_language(
    client, root, reviewer, django_capture_on_commit_callbacks
):
    guide = nassau_guide(
        meaning_here_es="Dos agencias aquí trabajan con ICE.",
        your_rights_es="Tiene derecho a guardar silencio.",
    )
    content_save(obj=guide, user=root)
    guide.your_rights_en = "You have the right to stay silent. Ask for a lawyer."
    publish(guide, root, reviewer, commit_hooks=django_capture_on_commit_callbacks)
    body = page(client, "es")
    unchecked = in_language(
        "es", "A person has not checked this translation yet. Some words may be wrong."
    )
    meaning = body[body.index('id="g-meaning_here"') : body.index('id="g-reporting"')]
    assert "Dos agencias aquí trabajan con ICE." in meaning and unchecked in meaning
    rights = body[body.index('id="g-your_rights"') :]
    assert "Ask for a lawyer." in rights and "Tiene derecho" not in rights
    stale = in_language(
        "es", "The translation into your language is out of date. Shown in %(language)s.",
        language="en",
    )  # fmt: skip
    assert stale in rights


def test_a_draft_or_a_guide_in_review_is_never_shown(
    client, root, reviewer, django_capture_on_commit_callbacks
):
    draft = content_save(obj=nassau_guide(your_rights_en="DRAFT rights text"), user=root)
    assert "DRAFT rights text" not in page(client, "en")
    add_source(draft)
    content_submit(obj=draft, user=root)
    body = page(client, "en")
    assert "DRAFT rights text" not in body
    # The generic, true-everywhere text stands in.
    assert "You have the right to stay silent. You do not have to say where" in body


def test_a_new_version_shows_at_once_on_the_cached_page_and_its_draft_never_does(
    client, root, reviewer, django_capture_on_commit_callbacks
):
    published = publish(
        nassau_guide(), root, reviewer, commit_hooks=django_capture_on_commit_callbacks
    )
    assert "You have the right to stay silent." in page(client, "en")
    draft = content_new_draft(obj=published, user=root)
    draft.your_rights_en = "Version two: you may stay silent and ask for a lawyer."
    content_save(obj=draft, user=root)
    body = page(client, "en")
    assert "Version two" not in body and "You have the right to stay silent." in body
    content_submit(obj=draft, user=root)
    with django_capture_on_commit_callbacks(execute=True):
        content_publish(obj=draft, user=reviewer)
    body = page(client, "en")
    assert "Version two: you may stay silent and ask for a lawyer." in body
    assert "You have the right to stay silent." not in body


@pytest.fixture
def demo(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo")


def test_policy_notes_show_on_the_places_they_govern(client, demo):
    miami = page(client, "es", "places/fl/miami-dade-county/")
    assert "Ley de Florida: las cárceles deben trabajar con ICE" in miami
    assert "Estatutos de Florida, sección 908.11" in miami
    assert "Florida Statutes § 908.11" in miami  # its source
    assert "Connecticut" not in miami
    hartford = page(client, "en", "places/ct/hartford/")
    assert "Connecticut&#x27;s Trust Act" in hartford
    assert "Florida law" not in hartford
    nassau = page(client, "en")
    assert "Florida law" not in nassau and "Trust Act" not in nassau
    # The state's note is marked as applying state-wide.
    assert "This applies everywhere in Florida." in page(
        client, "en", "places/fl/miami-dade-county/"
    )


def test_local_help_and_the_demo_marker(client, demo):
    body = page(client, "en")
    assert "Demo content: some texts on this page are examples" in body
    help_section = body[body.index('id="help"') :]
    assert "New York State Office for New Americans hotline" in help_section
    assert '<a href="tel:18005667636"><bdi dir="ltr">1-800-566-7636</bdi></a>' in help_section
    assert "Languages spoken: English, Spanish" in help_section
    assert 'href="https://dos.ny.gov/"' in help_section
    spanish = page(client, "es")
    assert "Ayuda gratis y confidencial por teléfono" in spanish
    assert "Este es contenido de demostración" in spanish  # the guide itself, in Spanish
    assert "Dos agencias del condado de Nassau trabajan con ICE" in spanish
    guide_part = spanish[spanish.index('id="g-meaning_here"') :]
    assert (
        in_language("es", "A person has not checked this translation yet. Some words may be wrong.")
        in spanish[spanish.index("</h1>") : spanish.index('id="g-meaning_here"')]
    )
    assert "Dos agencias" in guide_part


def test_a_city_without_its_own_guide_says_whose_guide_it_shows(client, demo):
    from assistant.models import Place

    county = place("NY", "Nassau County")
    hempstead = Place.objects.get(kind=Place.Kind.CITY, name="Hempstead", county=county)
    body = page(client, "en", hempstead.get_absolute_url().removeprefix("/en/"))
    assert "This is the guide for Nassau County." in body
    assert "Two Nassau County agencies work with ICE" in body


@pytest.mark.parametrize("language", ["ar", "es", "ht", "zh-hans"])
def test_demo_place_pages_fit_in_14_kb_compressed(client, demo, language):
    from django.contrib.staticfiles import finders

    css = open(finders.find("css/site.css"), "rb").read()
    for path in (NASSAU, "places/ny/new-york-city/", "places/fl/miami-dade-county/"):
        html = client.get(f"/{language}/{path}").content
        assert len(gzip.compress(html)) + len(gzip.compress(css)) <= 14 * 1024, path
        assert b"style=" not in html and b"<script" not in html
