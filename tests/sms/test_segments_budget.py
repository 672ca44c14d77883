"""Every reply, in every language, within its segment budget and in the cheapest encoding."""

import datetime

import pytest
from django.core.management import call_command
from django.utils import translation

from assistant.delivery.segments import GSM7, UCS2, count_segments
from assistant.models import Agreement
from assistant.sms.compose import budget_for, clean, pack
from assistant.sms.conversation import GUIDE_NOT_TRANSLATED, State, converse
from assistant.sms.language import LANGUAGE_CODES, UCS2_LANGUAGES
from assistant.sms.lookup import DbLookup
from tests.factories import AgencyFactory, AgreementFactory, place

pytestmark = pytest.mark.django_db

LANGUAGE_MENU_START = "1 English\n2 Español"


def every_reply(language: str) -> list[str]:
    """Drive the conversation through every kind of reply in ``language``."""
    # A long place name with every model and a pending agreement: the longest answer.
    county = place("NM", "Doña Ana County")
    for model in Agreement.EnforcementModel.values:
        AgreementFactory(
            agency=AgencyFactory(place=county),
            enforcement_model=model,
            signed_on=datetime.date(2020, 12, 1),
        )
    AgreementFactory(agency=AgencyFactory(place=county), status=Agreement.Status.PENDING)
    lookup = DbLookup()
    replies = []

    def say(text, state):
        turn = converse(state=state, text=text, lookup=lookup)
        replies.extend(turn.replies)
        return turn.state

    replies.extend(converse(state=State(), text="👍", lookup=lookup).replies)  # unsure
    state = State(language=language)
    for text in ("HELP", "LANGUAGE", "0", "blah", "", "99999", "nassau county", "11040"):
        say(text, state)
    with_place = say("Doña Ana County, NM", state)
    for text in ("1", "2", "3", "4", "0", "blah", "MENU"):
        say(text, with_place)
    no_place = say("Santa Fe County, NM", state)
    for text in ("1", "2", "3", "4"):
        say(text, no_place)
    say(str(LANGUAGE_CODES.index(language) + 1), State(language="en", menu="language"))
    say("DELETE", state)
    stopped = say("STOP", state)
    say("START", stopped)
    return replies


@pytest.mark.parametrize("language", LANGUAGE_CODES)
def test_every_reply_fits_the_segment_budget_and_gsm7_languages_stay_gsm7(language, ice_list):
    replies = every_reply(language)
    assert len(replies) > 25
    for body in replies:
        count = count_segments(body)
        assert count.segments <= budget_for(language), (language, count, body)
        if language not in UCS2_LANGUAGES and LANGUAGE_MENU_START not in body:
            # Bodies in the language menu's own scripts are the one exception.
            assert count.encoding == GSM7 or "English\nEspañol" in body, (language, body)


def guide_replies(language: str) -> list[str]:
    """Drive menu items 1-4 for every demo place, answered from its guide and local help."""
    lookup = DbLookup()
    replies = []
    for query in ("Nassau County, NY", "New York City", "Miami-Dade County, FL",
                  "Santa Fe County, NM", "Hartford, CT"):  # fmt: skip
        turn = converse(state=State(language=language), text=query, lookup=lookup)
        if turn.state.menu == "pick":  # Hartford the city, or Hartford County?
            turn = converse(state=turn.state, text="1", lookup=lookup)
        assert turn.state.place_id, query
        for digit in "1234":
            replies.extend(converse(state=turn.state, text=digit, lookup=lookup).replies)
    return replies


@pytest.mark.parametrize("language", LANGUAGE_CODES)
def test_guide_backed_replies_fit_the_budget_in_every_language(language, ice_list):
    call_command("load_demo")
    replies = guide_replies(language)
    assert len(replies) == 20  # one reply per menu item: the page link carries the rest
    for body in replies:
        count = count_segments(body)
        assert count.segments <= budget_for(language), (language, count, body)
        assert "/places/" in body, body  # the link to the page
        if language not in UCS2_LANGUAGES:
            assert count.encoding == GSM7, (language, body)
    said = "\n".join(replies)
    if language in UCS2_LANGUAGES:
        # The demo guide is in English and Spanish only: a UCS-2 reply says, in the resident's
        # language, where to read it, and never sends the English in UCS-2.
        with translation.override(language):
            note = str(GUIDE_NOT_TRANSLATED).split("%(")[0]
        assert note in said and "Nassau County Police Department" not in said
        return
    # The demo guide's own words, not the generic ones (English, or Spanish where written).
    assert ("Nassau County Police Department" in said
            or "Departamento de Policia del Condado de Nassau" in said)  # fmt: skip


@pytest.mark.parametrize("language", sorted(UCS2_LANGUAGES))
def test_ucs2_language_budget_is_five_segments(language):
    assert budget_for(language) == 5


def test_accented_spanish_is_kept_only_when_the_setting_asks_for_it(settings):
    text = "Envíe su código postal. Está aquí."
    settings.SMS_KEEP_ACCENTS = []
    assert clean(text, language="es") == "Envie su codigo postal. Esta aqui."
    assert count_segments(clean(text, language="es")).encoding == GSM7
    settings.SMS_KEEP_ACCENTS = ["es", "pt-br"]
    assert clean(text, language="es") == text
    assert count_segments(clean("Não", language="pt-br")).encoding == UCS2


def test_curly_quotes_and_invisible_spaces_never_force_ucs2():
    text = "\u201cHello\u201d \u2014 it\u2019s\u00a0here\u200b\u2026"
    assert clean(text, language="en") == '"Hello" - it\'s here...'
    assert count_segments(clean(text, language="en")).encoding == GSM7


def test_persian_keeps_its_zero_width_non_joiner():
    assert "\u200c" in clean("می\u200cتوانید", language="fa")


def test_long_replies_split_at_sentence_boundaries_within_the_budget():
    sentence = "This sentence is exactly long enough to matter for the test here. "
    bodies = pack([sentence * 12], language="en")
    assert len(bodies) > 1
    for body in bodies:
        assert count_segments(body).segments <= 3
        assert body.endswith("here.")
