"""The residents' site: search, the answer first, languages, caching and bad input."""

import datetime
import gzip
import re
import unicodedata

import pytest
from django.contrib.auth.models import Group
from django.db import transaction

from assistant.content.interface_translation import interface_translation_approve
from assistant.content.publication import public_content_changed, public_content_version
from assistant.models import Agreement, InterfaceTranslationReview
from tests.factories import AgencyFactory, AgreementFactory, UserFactory, place
from tests.support.services import wait_for

pytestmark = pytest.mark.django_db

NASSAU = "/en/places/ny/nassau-county/"


def text(response) -> str:
    return response.content.decode()


def answer_sentence(response) -> str:
    match = re.search(r'<p class="answer (?:yes|no|unknown)">(.*?)</p>', text(response))
    assert match, "the page has no answer sentence"
    return match.group(1)


def test_zip_search_redirects_to_its_county(client):
    response = client.get("/en/search", {"q": "11501"})
    assert response.status_code == 302
    assert response["Location"] == NASSAU
    assert "Nassau County, New York" in text(client.get(response["Location"]))


def test_search_keeps_the_visitors_language(client):
    response = client.get("/es/search", {"q": "Nassau County, NY"})
    assert response["Location"] == "/es/places/ny/nassau-county/"


def test_zip_crossing_counties_offers_the_choices(client):
    response = client.get("/en/search", {"q": "11001"})
    assert response.status_code == 200
    body = text(response)
    assert "is in more than one county" in body
    assert 'href="/en/places/ny/nassau-county/"' in body
    assert 'href="/en/places/ny/queens-county/"' in body


def test_ambiguous_name_offers_the_choices_in_the_visitors_language(client):
    body = text(client.get("/es/search", {"q": "Orange"}))
    assert "Hay más de un lugar llamado" in body
    assert 'href="/es/places/fl/orange-county/"' in body
    assert 'href="/es/places/ca/orange-county/"' in body


def test_before_any_ice_list_is_imported_no_page_says_yes_or_no(client):
    for path in (NASSAU, "/en/places/fl/", "/es/places/sc/pickens-county/"):
        response = client.get(path)
        assert 'class="answer no"' not in text(response)
        assert 'class="answer yes"' not in text(response)
    assert answer_sentence(client.get(NASSAU)) == (
        "We have not loaded ICE's list yet, so we cannot say whether police here work with ICE."
    )


def test_answer_without_agreements_says_no_and_names_the_list_and_its_age(client, ice_list):
    response = client.get(NASSAU)
    assert answer_sentence(response) == "Police here are not on ICE's 287(g) list."
    assert f'<time datetime="{ice_list.as_of.isoformat()}">' in text(response)
    assert "(3 days old)" in text(response)
    assert "may be out of date" not in text(response)


def test_an_old_list_is_said_to_be_maybe_out_of_date(client, ice_list, settings):
    settings.ICE_LIST_STALE_DAYS = 2
    public_content_changed()
    assert "This list may be out of date" in text(client.get(NASSAU))
    assert "Esta lista puede estar desactualizada" in text(
        client.get("/es/places/ny/nassau-county/")
    )


def test_answer_with_agreements_names_agency_model_and_dates(client, ice_list):
    nassau = place("NY", "Nassau County")
    AgreementFactory(
        agency=AgencyFactory(name="Nassau County Police Department", place=nassau),
        enforcement_model=Agreement.EnforcementModel.TASK_FORCE,
        signed_on=datetime.date(2025, 3, 10),
        changed_on=datetime.date(2025, 4, 2),
    )
    AgreementFactory(
        agency=AgencyFactory(name="Nassau Sheriff", place=nassau),
        enforcement_model=Agreement.EnforcementModel.JAIL_ENFORCEMENT,
        status=Agreement.Status.PENDING,
    )
    response = client.get(NASSAU)
    assert answer_sentence(response) == (
        "Nassau County Police Department works with ICE: Task Force Model."
    )
    body = text(response)
    assert "Nassau County Police Department" in body
    assert "Task Force Model" in body
    assert '<time datetime="2025-03-10">' in body
    assert '<time datetime="2025-04-02">' in body
    assert "Agreements waiting to start" in body and "Nassau Sheriff" in body
    # the answer comes before the details
    assert body.index('class="answer yes"') < body.index("Who has an agreement")
    spanish = client.get("/es/places/ny/nassau-county/")
    assert answer_sentence(spanish) == (
        "Nassau County Police Department trabaja con ICE: Modelo de Fuerza de Tarea."
    )
    assert "Modelo de Fuerza de Tarea" in text(spanish)


def test_city_police_inside_a_county_are_listed_apart(client, ice_list):
    from assistant.models import Place

    nassau = place("NY", "Nassau County")
    city = Place.objects.get(kind=Place.Kind.CITY, name="Glen Cove", county=nassau)
    AgreementFactory(agency=AgencyFactory(name="Glen Cove Police", place=city))
    body = text(client.get(NASSAU))
    assert "Police here are not on ICE's 287(g) list." in body
    assert "Police departments inside this county with an agreement" in body
    assert "Glen Cove Police" in body


@pytest.mark.parametrize(
    ("language", "direction"),
    [("en", "ltr"), ("es", "ltr"), ("zh-hans", "ltr"), ("ar", "rtl"), ("fa", "rtl")],
)
def test_html_lang_and_direction(client, language, direction):
    for path in ("", "places/ny/nassau-county/", "search?q=11001", "privacy"):
        body = text(client.get(f"/{language}/{path}"))
        assert f'<html lang="{language}" dir="{direction}">' in body


def test_numbers_and_dates_stay_left_to_right_in_arabic(client, ice_list):
    AgreementFactory(signed_on=datetime.date(2025, 3, 10))
    body = text(client.get("/ar/places/ny/nassau-county/"))
    assert '<a href="tel:911"><bdi dir="ltr">911</bdi></a>' in body
    assert re.search(r'<time datetime="2025-03-10"><bdi>[^<]+</bdi></time>', body)
    body = text(client.get("/ar/search", {"q": "11001"}))
    assert '<bdi dir="ltr">11001</bdi>' in body


def test_language_picker_names_every_language_in_itself_and_keeps_the_page(client):
    body = unicodedata.normalize("NFC", text(client.get(NASSAU)))
    for name in ("English", "español", "简体中文", "Tiếng Việt", "한국어", "العربيّة", "فارسی"):
        assert unicodedata.normalize("NFC", name) in body
    assert 'href="/vi/places/ny/nassau-county/" lang="vi"' in body
    assert body.count('hreflang="') == 12


def test_unreviewed_translation_notice_until_a_reviewer_approves(
    client, django_capture_on_commit_callbacks
):
    notice = "Ninguna persona ha revisado todavía la traducción de los menús y botones"
    assert notice in text(client.get("/es/"))
    assert "has not checked the translation" not in text(client.get("/en/"))
    reviewer = UserFactory(username="translator")
    reviewer.groups.add(Group.objects.get(name="Translator"))
    with django_capture_on_commit_callbacks(execute=True):
        interface_translation_approve(language="es", reviewer=reviewer)
    assert notice not in text(client.get("/es/"))
    assert "ترجمة قوائم هذا الموقع" in text(client.get("/ar/"))


def test_admin_approval_needs_a_reviewer_or_translator(
    client, admin_login, django_capture_on_commit_callbacks
):
    organizer = UserFactory(username="plain-organizer")
    admin_login(client, organizer)
    url = "/admin/assistant/interfacetranslationreview/add/"
    assert client.post(url, {"language": "es"}).status_code == 403
    organizer.groups.add(Group.objects.get(name="Reviewer"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"language": "es", "note": "checked all pages"})
    assert response.status_code == 302
    review = InterfaceTranslationReview.objects.get(language="es")
    assert review.reviewed_by == organizer
    assert "Ninguna persona ha revisado" not in text(client.get("/es/about"))


@pytest.fixture
def places_loaded(transactional_db):
    """Reload the places when an earlier transactional test flushed them."""
    from assistant.models import Place
    from assistant.places.services import places_load

    if not Place.objects.filter(abbreviation="NY").exists():
        places_load()


@pytest.mark.django_db(transaction=True)
def test_cached_page_changes_right_after_an_agreement_change(client, places_loaded, ice_list):
    first = client.get(NASSAU)
    assert "are not on ICE" in answer_sentence(first)
    # Without a publish the cached copy is served: a silent write does not show.
    agreement = AgreementFactory(status=Agreement.Status.PENDING)
    assert text(client.get(NASSAU)) == text(first)
    with transaction.atomic():
        agreement.status = Agreement.Status.ACTIVE
        agreement.save()
        public_content_changed()
    assert answer_sentence(client.get(NASSAU)).endswith("works with ICE: Task Force Model.")
    # Each language is its own copy.
    assert "trabaja con ICE" in answer_sentence(client.get("/es/places/ny/nassau-county/"))


@pytest.mark.django_db(transaction=True)
def test_pages_still_render_when_the_cache_cannot_be_reached(
    client, places_loaded, ice_list, settings, caplog
):
    # A Redis nobody listens on: every cache call fails to connect.
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.PooledClientRedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    response = client.get(NASSAU)
    assert response.status_code == 200
    assert "are not on ICE" in answer_sentence(response)
    assert "The page cache cannot be reached" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_with_redis_down_pages_are_rendered_and_a_change_is_never_hidden_after(
    client, places_loaded, ice_list, on_private_redis
):
    assert "are not on ICE" in answer_sentence(client.get(NASSAU))  # now cached in Redis
    on_private_redis.stop()
    assert "are not on ICE" in answer_sentence(client.get(NASSAU))
    agreement = AgreementFactory(status=Agreement.Status.PENDING)
    with transaction.atomic():
        agreement.status = Agreement.Status.ACTIVE
        agreement.save()
        public_content_changed()  # Redis cannot hear it now
    assert answer_sentence(client.get(NASSAU)).endswith("works with ICE: Task Force Model.")
    # Redis comes back with the page it kept: it must not be served again.
    on_private_redis.start()
    wait_for(lambda: public_content_version() is not None, timeout=10)
    assert answer_sentence(client.get(NASSAU)).endswith("works with ICE: Task Force Model.")


@pytest.mark.parametrize(
    ("query", "status", "expected"),
    [
        ("", 200, "Por favor|Escriba un código postal"),
        ("   ", 200, "Escriba un código postal"),
        ("00000", 404, "No encontramos este código postal"),
        ("Nowhereville", 404, "No encontramos ningún condado ni ciudad"),
        ("x" * 5000, 400, "Su búsqueda es demasiado larga"),
        ("<script>alert(1)</script>", 404, "No encontramos ningún condado"),
        ("Nassau\x00County", 200, "Elija el suyo"),
        ("1150", 404, "No encontramos"),
    ],
)
def test_bad_search_input_gets_a_helpful_page_in_the_visitors_language(
    client, query, status, expected
):
    response = client.get("/es/search", {"q": query})
    assert response.status_code == status
    body = text(response)
    assert re.search(expected, body)
    assert '<html lang="es"' in body
    assert "<script>" not in body
    assert len(body) < 20_000  # a 5,000-character query is not echoed back whole


def test_repeated_query_parameter_is_not_an_error(client):
    response = client.get("/en/search?q=11501&q=nassau")
    assert response.status_code in (200, 302, 404)


@pytest.fixture
def production_errors(settings):
    settings.DEBUG = False


@pytest.mark.parametrize(
    ("path", "language", "expected"),
    [
        ("/es/places/ny/nowhere/", "es", "Página no encontrada"),
        ("/ar/places/zz/", "ar", "الصفحة غير موجودة"),
        ("/fr/places/ny/nassau-county/extra", "fr", "Page introuvable"),
        ("/ru/no-such-page", "ru", "Страница не найдена"),
    ],
)
def test_unknown_paths_are_404_pages_in_the_visitors_language(
    client, production_errors, path, language, expected
):
    response = client.get(path)
    assert response.status_code == 404
    body = text(response)
    assert expected in body
    assert f'<html lang="{language}"' in body


def test_unknown_language_prefix_is_a_404_in_the_browsers_language(client, production_errors):
    for path in ("/de/", "/xx/places/ny/nassau-county/", "/de/places/ny/"):
        response = client.get(path, follow=True, HTTP_ACCEPT_LANGUAGE="es")
        assert response.status_code == 404, path
        assert "Página no encontrada" in text(response)


@pytest.mark.parametrize(
    "path",
    ["/en/", "/en/287g", "/en/report-a-crime", "/en/your-rights", "/en/about", "/en/privacy"],
)
def test_every_page_is_self_contained(client, path):
    body = text(client.get(path))
    assert "<script" not in body and "<style" not in body and "style=" not in body
    # nothing loads from another host: every src/href for a resource is local
    for url in re.findall(r'<link[^>]+href="([^"]+)"', body):
        assert url.startswith("/static/")
    assert "src=" not in body


def test_place_page_and_css_fit_in_14_kb_compressed(client, settings):
    from django.contrib.staticfiles import finders

    nassau = place("NY", "Nassau County")
    for n in range(4):
        AgreementFactory(
            agency=AgencyFactory(name=f"Nassau Agency {n}", place=nassau),
            signed_on=datetime.date(2024, 1, n + 1),
            agreement_url="https://www.ice.gov/doclib/287gMOA/example.pdf",
        )
    html = client.get("/ar/places/ny/nassau-county/").content
    css = open(finders.find("css/site.css"), "rb").read()
    assert len(gzip.compress(html)) + len(gzip.compress(css)) <= 14 * 1024


def test_print_stylesheet_hides_navigation(client):
    from django.contrib.staticfiles import finders

    css = open(finders.find("css/site.css")).read()
    print_rules = css[css.index("@media print") :]
    assert "header nav" in print_rules and "display:none" in print_rules
