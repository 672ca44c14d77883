"""Issue 14: what each turn costs, and the cases that trapped residents."""

import pytest
from django.core.management import call_command

from assistant.delivery.segments import count_segments
from assistant.sms.conversation import (
    Effect,
    State,
    converse,
    may_repeat,
    turn_budget,
    turn_segments,
)
from assistant.sms.language import LANGUAGE_CODES, LANGUAGE_MENU
from assistant.sms.lookup import DbLookup

pytestmark = pytest.mark.django_db

# A first text in each language, as residents send them.
FIRST_TEXTS = {
    "en": "hi is the police here working with ICE?",
    "es": "hola necesito ayuda",
    "zh-hans": "你好，我想了解警察",
    "vi": "canh sat o day co lam viec voi ICE khong",
    "tl": "pls help po",
    "ko": "안녕하세요 질문이 있어요",
    "ar": "مرحبا، عندي سؤال",
    "ht": "bonjou mwen bezwen ed",
    "pt-br": "tô com medo da polícia",
    "fr": "êtes-vous là",
    "ru": "здравствуйте",
    "fa": "سلام",
}


def talk(*texts, state=None, lookup=None):
    """Send ``texts`` one after another; return every turn."""
    state, lookup = state or State(), lookup or DbLookup()
    turns = []
    for text in texts:
        turns.append(converse(state=state, text=text, lookup=lookup))
        state = turns[-1].state
    return turns


def joined(turn) -> str:
    return "\n".join(turn.replies)


def test_every_language_has_a_first_text():
    assert set(FIRST_TEXTS) == set(LANGUAGE_CODES)


@pytest.mark.parametrize("language", LANGUAGE_CODES)
def test_first_turn_is_one_message_within_the_turn_budget(language):
    [first] = talk(FIRST_TEXTS[language])
    assert first.language == language
    assert len(first.replies) == 1
    segments = turn_segments(first.replies)
    print(f"\n{language}: first turn {segments} segment(s)", end="")
    assert segments <= turn_budget(language), first.replies
    text = joined(first)
    assert "ZIP" in text and "STOP" in text and "0" in text  # answer, stop, language
    assert "1 English" not in text  # the twelve-language menu only when asked


@pytest.mark.parametrize("language", LANGUAGE_CODES)
def test_first_text_then_zip_then_answer_within_twice_the_turn_budget(language, ice_list):
    call_command("load_demo")
    first, answer = talk(FIRST_TEXTS[language], "11550")  # Hempstead, Nassau County
    assert answer.state.place_id and answer.language == language
    assert len(answer.replies) == 1
    total = turn_segments(first.replies) + turn_segments(answer.replies)
    print(f"\n{language}: first {turn_segments(first.replies)} + answer "
          f"{turn_segments(answer.replies)} = {total} segments", end="")  # fmt: skip
    assert total <= 2 * turn_budget(language), answer.replies
    assert "Nassau County, NY" in joined(answer)


def test_an_unsure_first_text_asks_for_the_language_in_one_short_message():
    [turn] = talk("👍")
    assert turn.state.menu == "language" and not turn.state.language
    [body] = turn.replies
    # UCS-2 anyway (the names in their own scripts): the Spanish keeps its accents.
    assert body.startswith("Send the number of your language: / Envíe el número de su idioma:")
    assert "12 فارسی" in body
    assert count_segments(body).segments <= 3


@pytest.mark.parametrize(("answer", "language"), [("4", "vi"), ("12", "fa"), ("2", "es")])
def test_after_an_unsure_first_text_a_number_chooses_the_language(answer, language):
    asked, chosen = talk("ok", answer)
    assert asked.state.menu == "language"
    assert chosen.state.language == language and chosen.language == language
    assert "ZIP" in joined(chosen) and "STOP" in joined(chosen)  # the welcome, privacy line
    assert "1 English" not in joined(chosen)


@pytest.mark.parametrize(
    ("name", "language"),
    [("english", "en"), ("Español", "es"), ("espanol", "es"), ("tiếng việt", "vi"),
     ("tieng viet", "vi"), ("KREYOL", "ht"), ("中文", "zh-hans"), ("فارسی", "fa")],
)  # fmt: skip
def test_after_an_unsure_first_text_a_language_name_chooses_it(name, language):
    _asked, chosen = talk("👍", name)
    assert chosen.state.language == language
    # And later, a name switches language whatever was detected first.
    later = talk("hello", name)[-1]
    assert later.state.language == language


def test_zero_and_language_open_the_full_menu_and_a_number_answers_it():
    _first, menu, chosen = talk("hello", "0", "10")
    assert "12 فارسی" in joined(menu)
    assert chosen.state.language == "fr"


@pytest.mark.parametrize(
    ("text", "language", "confirmation"),
    [
        ("STOP please", "en", "You will get no more messages. Text START to come back."),
        ("stop texting me", "en", "You will get no more messages."),
        ("please stop", "en", "You will get no more messages."),
        # Spanish and Portuguese alike: the confirmation is in English, and STOP works.
        ("por favor pare", "en", "You will get no more messages."),
        ("STOP", "en", "You will get no more messages."),
        ("BAJA", "es", "No recibira mas mensajes."),
        ("停止", "zh-hans", "你将不会再收到消息。"),
    ],
)
def test_a_text_starting_or_ending_with_stop_opts_out_with_one_confirmation(
    text, language, confirmation
):
    [turn] = talk(text)
    assert turn.effect == Effect.OPT_OUT and turn.state.opted_out
    assert len(turn.replies) == 1 and confirmation in turn.replies[0]
    # Nothing more until START, not even a second confirmation.
    for later in ("hello", "11550", "STOP please", "STOP"):
        assert talk(later, state=turn.state)[0].replies == []


@pytest.mark.parametrize("stop", ["STOP please", "por favor pare", "STOP"])
def test_the_confirmation_is_in_the_residents_language_whatever_stop_word(stop):
    state = talk("hola necesito ayuda")[0].state
    [turn] = talk(stop, state=state)
    assert turn.replies == ["No recibira mas mensajes. Envie START para volver."]


@pytest.mark.parametrize("text", ["stopping by the police station, is it safe?", "nonstop"])
def test_stop_inside_a_word_or_sentence_is_no_opt_out(text):
    [turn] = talk(text)
    assert turn.effect != Effect.OPT_OUT


@pytest.mark.parametrize("text", ["hi", "ok", "me", "in", "Hi!", "OK."])
def test_two_letter_words_are_never_read_as_states(text):
    for state in (State(), State(language="en")):
        [turn] = talk(text, state=state)
        assert turn.state.place_id is None, text
        assert turn.replies


def test_a_place_is_still_found_with_its_state_after_a_county():
    assert talk("hello", "Nassau County, NY")[-1].state.place_id is not None


@pytest.mark.parametrize(
    ("contact", "expected"),
    [("1-800-555-0100", "Contact: 1-800-555-0100"), ("", "More: http://127.0.0.1:8000/en/")],
)
def test_help_names_the_service_how_to_stop_and_a_contact(settings, contact, expected):
    settings.SMS_HELP_CONTACT = contact
    text = joined(talk("HELP")[0])
    assert "Know Your Police" in text and "STOP" in text and expected in text


def test_a_resent_zip_is_answered_again():
    call_command("load_demo")
    turns = talk("hello", "11550", "11550", "11550", "11550")
    answers = [joined(turn) for turn in turns[1:]]
    assert all("Nassau County, NY" in answer for answer in answers)
    assert may_repeat("11550") and may_repeat(" 2 ") and may_repeat("HELP")
    assert not may_repeat("Thanks for your message! We will reply soon.")


def test_menu_lists_every_language_in_its_own_name():
    body = talk("LANGUAGE")[0].replies[0]
    for number, (_code, name) in enumerate(LANGUAGE_MENU, 1):
        assert f"{number} {name}" in body
