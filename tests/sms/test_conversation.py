"""The conversation, driven turn by turn with the real database lookup."""

import datetime

import pytest

from assistant.models import Agreement
from assistant.sms.conversation import Effect, State, converse
from assistant.sms.language import LANGUAGE_CODES
from assistant.sms.lookup import DbLookup
from tests.factories import AgencyFactory, AgreementFactory, place

pytestmark = pytest.mark.django_db


def talk(*texts, state=None):
    """Send ``texts`` one after another; return the last turn."""
    state = state or State()
    turn = None
    for text in texts:
        turn = converse(state=state, text=text, lookup=DbLookup())
        state = turn.state
    return turn


def joined(turn) -> str:
    return "\n".join(turn.replies)


def test_first_message_is_answered_in_its_language_with_zip_how_to_change_language_and_privacy():
    turn = talk("hola necesito ayuda")
    text = joined(turn)
    assert turn.state.language == "es"
    assert "codigo postal (ZIP)" in text
    assert "BORRAR" in text and "no son privados" in text
    # How to change language, not the twelve-language menu (issue 14: it cost 2 segments).
    assert "0: otro idioma" in text and "3 中文" not in text


def test_an_unsure_first_message_is_answered_in_english_and_spanish_with_the_menu():
    turn = talk("👍")
    text = joined(turn)
    assert "Send the number of your language:" in text
    assert "Envíe el número de su idioma:" in text
    assert "4 Tiếng Việt" in text
    assert turn.state.menu == "language"


def test_picking_a_language_from_the_menu_switches_every_later_reply():
    turn = talk("hello", "0", "4")  # the menu is sent only when asked
    assert turn.state.language == "vi"
    assert "tiếng Việt" in joined(turn)
    turn = talk("xyz", state=turn.state)
    assert joined(turn).startswith("Không tìm thấy nơi này.")


def test_a_zip_code_crossing_counties_asks_which_county(ice_list):
    turn = talk("hello", "11040")
    assert "1 Nassau County, NY" in joined(turn) and "2 Queens County, NY" in joined(turn)
    turn = talk("2", state=turn.state)
    assert turn.state.place_id == place("NY", "Queens County").id
    assert joined(turn).startswith("Queens County, NY: no, police here have no 287(g)")
    listed = ice_list.as_of
    assert f"ICE's list of {listed.month}/{listed.day}/{listed.year}." in joined(turn)


def test_before_any_list_is_imported_the_bot_says_so_and_never_no():
    turn = talk("hello", "11501")
    assert joined(turn).startswith(
        "Nassau County, NY: we have not loaded ICE's 287(g) list yet, so we cannot say"
    )
    assert "no, police" not in joined(turn)
    meaning = joined(talk("1", state=turn.state))
    assert "we have not loaded ICE's 287(g) list yet" in meaning
    assert "No 287(g) agreement" not in meaning


@pytest.mark.parametrize("text", ["dona ana county", "Doña Ana County, NM"])
def test_a_county_name_in_any_case_with_or_without_county_and_accents_sets_the_place(text):
    turn = talk("hello", text)
    assert turn.state.place_id == place("NM", "Doña Ana County").id
    assert "/en/places/nm/" in joined(turn)
    assert "1 What it means here" in joined(turn)


def test_a_name_shared_by_a_county_and_a_town_asks_which(ice_list):
    turn = talk("hello", "DOÑA ANA")
    assert "1 Doña Ana County, NM" in joined(turn) and "2 Doña Ana, NM" in joined(turn)
    assert talk("1", state=turn.state).state.place_id == place("NM", "Doña Ana County").id


def test_the_answer_names_the_sheriff_the_models_and_since_when(ice_list):
    nassau = place("NY", "Nassau County")
    AgreementFactory(
        agency=AgencyFactory(name="Nassau County Sheriff's Office", place=nassau),
        enforcement_model=Agreement.EnforcementModel.JAIL_ENFORCEMENT,
        signed_on=datetime.date(2019, 6, 1),
    )
    turn = talk("hello", "nassau county, ny")
    assert joined(turn).startswith(
        "Nassau County, NY: yes. Nassau County Sheriff's Office works with ICE under 287(g) "
        "(Jail Enforcement) since 6/2019."
    )


def test_the_answer_says_which_model_and_since_when_in_one_sentence(ice_list):
    nassau = place("NY", "Nassau County")
    AgreementFactory(
        agency=AgencyFactory(place=nassau),
        enforcement_model=Agreement.EnforcementModel.TASK_FORCE,
        signed_on=datetime.date(2025, 3, 10),
    )
    AgreementFactory(
        agency=AgencyFactory(place=nassau),
        enforcement_model=Agreement.EnforcementModel.JAIL_ENFORCEMENT,
        signed_on=datetime.date(2019, 6, 1),
    )
    turn = talk("hola", "nassau county, ny")
    sentence = next(x for x in joined(turn).splitlines() if x.startswith("Nassau County, NY:"))
    assert "1" in sentence  # "… and 1 other agency …", in Spanish once translated
    assert "(Control en la carcel y Fuerza de tarea)" in sentence and "6/2019" in sentence
    meaning = joined(talk("1", state=turn.state))
    assert "Control en la carcel: los guardias" in meaning
    assert "Fuerza de tarea: los policias" in meaning


def test_menu_items_answer_in_the_residents_language():
    state = talk("bonjour", "11550").state  # Hempstead, Nassau County
    crime = joined(talk("2", state=state))
    assert "911" in crime and "interprète" in crime
    assert "garder le silence" in joined(talk("3", state=state))
    assert "/fr/places/ny/nassau-county/" in joined(talk("4", state=state))


@pytest.mark.parametrize(
    ("stop_word", "language"), [("STOP", "en"), ("PARAR", "es"), ("arret", "fr"), ("停止", "zh")]
)
def test_stop_wins_over_an_open_menu_and_silences_everything_until_start(stop_word, language):
    state = talk("hello", "11040").state
    assert state.menu == "pick"
    turn = talk(stop_word, state=state)
    assert turn.effect == Effect.OPT_OUT
    # One confirmation (issue 14), in the resident's language; then silence until START.
    assert turn.replies == ["You will get no more messages. Text START to come back."]
    for text in ("1", "HELP", "hello", "11040"):
        assert talk(text, state=turn.state).replies == []
    back = talk("START", state=turn.state)
    assert back.effect == Effect.OPT_IN and back.replies


@pytest.mark.parametrize(
    ("word", "language", "expected"),
    [
        ("HELP", "en", "Know Your Police: free facts"),
        ("AYUDA", "es", "Conozca a su Policia: datos gratis"),
        ("AIDE", "fr", "Connaitre sa police: infos gratuites"),
        ("帮助", "zh-hans", "了解你的警察：免费提供"),
    ],
)
def test_help_keyword_in_several_languages(word, language, expected):
    assert expected in joined(talk(word))
    # Once a language is known, the reply stays in it whatever keyword language is used.
    state = talk("hola").state
    assert "Conozca a su Policia: datos gratis" in joined(talk(word, state=state))


@pytest.mark.parametrize("word", ["LANGUAGE", "IDIOMA", "LANGUE", "언어"])
def test_language_keyword_in_several_languages_opens_the_language_menu(word):
    state = talk("hola", "nassau county, ny").state
    turn = talk(word, state=state)
    assert turn.state.menu == "language"
    assert "Para cambiar de idioma" in joined(turn) and "5 Tagalog" in joined(turn)


@pytest.mark.parametrize(("word", "expected"), [("DELETE", "Done. We erased"),
                                                ("BORRAR", "Listo. Borramos"),
                                                ("SUPPRIMER", "C'est fait"),
                                                ("删除", "完成。")])  # fmt: skip
def test_delete_keyword_erases_the_state_and_confirms(word, expected):
    state = talk("hello", "nassau county, ny").state
    turn = talk(word, state=State(language="", place_id=state.place_id))
    assert turn.effect == Effect.ERASE
    assert turn.state == State()
    assert expected in joined(turn)


@pytest.mark.parametrize("language", LANGUAGE_CODES)
def test_anything_else_gets_a_helpful_reply_never_english_once_the_language_is_known(language):
    state = State(language=language)
    english = joined(talk("blah blah", state=State(language="en")))
    for text in ("blah blah", "", "99999", "🙂🙂🙂"):
        turn = talk(text, state=state)
        assert turn.replies, f"silence for {text!r} in {language}"
        if language != "en":
            assert "We " not in joined(turn) and joined(turn) != english


@pytest.mark.parametrize(
    "text",
    ["x" * 5000, "\x00\x01 hello", "مرحبا " * 400, "%E2%80%AE%00%ZZ+&=", "\u202e11040"],
)
def test_bad_input_gets_a_sensible_reply(text):
    turn = talk("hello", text)
    assert turn.replies


@pytest.mark.parametrize("digit", ["³", "①", "٣", "۳", "３", "३"])
def test_a_menu_choice_in_other_digits_than_ascii_is_text_not_a_choice(digit):
    # "³" and "①" pass str.isdigit() but make int() fail; int() reads "٣" and "３" as 3.
    turn = talk("👍", digit)  # the language question, answered with an odd digit
    assert turn.replies and turn.state.language != LANGUAGE_CODES[2]
    if digit != "۳":  # Persian's own digit: the text is taken to be Persian, and answered
        assert turn.state.menu == "language" and not turn.state.language
        assert "Send the number of your language:" in joined(turn)
    turn = talk("hello", "0", digit)  # the language menu, once the language is known
    assert turn.state.language == "en"
    assert joined(turn).startswith("We did not find that place.")


@pytest.mark.parametrize("digit", ["²", "①", "٢", "２"])
def test_a_place_choice_in_other_digits_than_ascii_is_text_not_a_choice(ice_list, digit):
    turn = talk("hello", "11040")
    assert turn.state.menu == "pick"
    turn = talk(digit, state=turn.state)
    assert turn.state.place_id is None
    assert joined(turn).startswith("We did not find that place.")
