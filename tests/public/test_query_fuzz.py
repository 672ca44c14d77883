"""Property-based tests of what residents (or anyone) put in public addresses: the search box,
place slugs and recording ids. The answer is a page, a redirect, 400 or 404, never a 5xx."""

import logging
from urllib.parse import quote, urlencode

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db

SHARED_FIXTURES = settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    max_examples=max(1, settings.default.max_examples // 3),
)
OTHER_DIGITS = "²①٠١٢٣٤٥۱۲۳０１２３４５१२३"
text = st.one_of(
    st.text(max_size=30),
    st.text(OTHER_DIGITS + "0123456789- ", max_size=12),
    st.sampled_from(["11550", "11550-1234", "١١٥٥٠", "１１５５０", "Nassau County, NY", "\x00"]),
    st.just("9" * 5000),
)


@pytest.fixture
def get(caplog, loaded_places):
    client = Client(raise_request_exception=False)

    def fetch(path: str):
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            response = client.get(path)
        errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert not errors, errors
        return response

    return fetch


@SHARED_FIXTURES
@given(query=text)
def test_search_never_fails_whatever_is_typed(get, query):
    response = get("/en/search?" + urlencode({"q": query}))
    assert response.status_code in {200, 302, 400, 404}


@SHARED_FIXTURES
@given(state=text, slug=text, number=st.one_of(text, st.integers(min_value=0, max_value=10**30)))
def test_place_and_recording_addresses_never_fail(get, state, slug, number):
    for path in (
        f"/en/places/{quote(state, safe='')}/",
        f"/en/places/{quote(state, safe='')}/{quote(slug, safe='')}/",
        f"/data/places/{quote(state, safe='')}/{quote(slug, safe='')}.json",
        f"/voice/recordings/{quote(str(number), safe='')}",
    ):
        assert get(path).status_code in {200, 301, 302, 400, 404}, path
