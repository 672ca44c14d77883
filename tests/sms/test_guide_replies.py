"""Menu items 1-4 answer from the place's published guide and local help, in budget."""

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import translation

from assistant.delivery.segments import GSM7, count_segments
from assistant.sms.compose import budget_for, clean
from assistant.sms.conversation import FELL_BACK, UNREVIEWED, State, converse
from assistant.sms.lookup import DbLookup

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    call_command("load_demo")


def at_nassau(language: str) -> tuple[State, DbLookup]:
    lookup = DbLookup()
    turn = converse(state=State(language=language), text="Nassau County, NY", lookup=lookup)
    assert turn.state.place_id
    return turn.state, lookup


def notes(language: str, *, fell_back_to: str = "", unreviewed: bool = False) -> str:
    """Return the language notes a reply must start with, as the resident's catalog says."""
    with translation.override(language):
        parts = []
        if fell_back_to:
            name = str(dict(settings.LANGUAGES)[fell_back_to])  # in the resident's language
            parts.append(str(FELL_BACK) % {"language": name})
        if unreviewed:
            parts.append(str(UNREVIEWED))
        return clean(" ".join(parts), language=language)


def reply(language: str, digit: str) -> list[str]:
    state, lookup = at_nassau(language)
    return converse(state=state, text=digit, lookup=lookup).replies


def test_reporting_for_nassau_answers_from_the_guide_in_spanish(demo):
    [body] = reply("es", "2")
    assert "Departamento de Policia del Condado de Nassau por su sitio web" in body
    assert body.splitlines()[0] == notes("es", unreviewed=True)
    assert body.endswith("/es/places/ny/nassau-county/")
    assert "Mas: http" in body
    assert count_segments(body).encoding == GSM7 and count_segments(body).segments <= 3
    # The generic text is not what was said.
    assert "Victims of some crimes" not in body and "victimas de algunos delitos" not in body


def test_reporting_for_nassau_answers_from_the_guide_in_english(demo):
    [body] = reply("en", "2")
    assert body.startswith("In an emergency, call 911. For a crime that is not an emergency")
    assert "We have not found a public statement" in body  # what the agency says on status
    assert "Not checked" not in body and "Not translated" not in body  # English is the source
    assert body.endswith("More: http://127.0.0.1:8000/en/places/ny/nassau-county/")
    # The rest of the section is on the page: the reply was cut at a sentence's end.
    assert body.splitlines()[-2].endswith(".")


def test_menu_items_1_3_and_4_answer_from_the_guide_and_local_help(demo):
    assert "Two Nassau County agencies work with ICE under 287(g)." in reply("en", "1")[0]
    assert reply("en", "3")[0].startswith("You have the right to stay silent.")
    [local_help] = reply("en", "4")
    assert "New York State Office for New Americans hotline: 1-800-566-7636." in local_help


def test_a_reply_that_fell_back_says_so_in_the_residents_language(demo, settings):
    # Haitian Creole has no demo text; French neither; English is shown and the reply says so.
    [body] = reply("ht", "3")
    assert body.splitlines()[0] == "(Poko tradui: li an Angle.)"  # "English", in Kreyol
    assert "You have the right to stay silent." in body
    # Portuguese falls back to the Spanish translation, which nobody has checked yet.
    [body] = reply("pt-br", "3")
    assert body.splitlines()[0] == notes("pt-br", fell_back_to="es", unreviewed=True)
    assert "Tiene derecho a guardar silencio." in body


def test_a_place_without_a_guide_keeps_the_generic_texts(demo):
    lookup = DbLookup()
    state = converse(state=State(language="en"), text="Suffolk County, NY", lookup=lookup).state
    body = "\n".join(converse(state=state, text="2", lookup=lookup).replies)
    assert "Call 911 in an emergency. You can report a crime whatever your immigration" in body
    # Local help still comes from the state's organizations.
    assert (
        "New York State Office for New Americans"
        in converse(state=state, text="4", lookup=lookup).replies[0]
    )


def test_long_guide_text_is_cut_at_a_sentence_with_the_link(demo):
    from assistant.models import Guide

    guide = Guide.objects.get(place__name="Nassau County", status="published")
    guide.your_rights_en = " ".join(f"Sentence number {n} is about your rights." for n in range(60))
    guide.save()
    [body] = reply("en", "3")
    assert count_segments(body).segments <= budget_for("en")
    text, link = body.rsplit("\n", 1)
    assert text.endswith("rights.") and "Sentence number 0 " in text
    assert link == "More: http://127.0.0.1:8000/en/places/ny/nassau-county/"
