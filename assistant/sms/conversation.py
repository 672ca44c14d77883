"""The SMS conversation as a pure function: state + incoming text → new state + replies.

No database, no Twilio and no clock in here. What the conversation needs to know about places
comes through an injected ``Lookup`` (see assistant/sms/lookup.py for the real one); what it
wants done (opt out, opt back in, erase) comes back as ``Turn.effect`` for the caller to
persist. The webhook and the admin simulator both call ``converse``.
"""

import re
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Protocol

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy, ngettext_lazy, pgettext_lazy

from assistant.delivery.segments import count_segments
from assistant.sms.compose import (
    SMS,
    WHATSAPP,
    WHATSAPP_BUDGET,
    Verbatim,
    budget_for,
    channel_override,
    emphasis,
    fit_sentences,
    on_whatsapp,
    pack,
)
from assistant.sms.language import (
    LANGUAGE_CODES,
    LANGUAGE_MENU,
    UCS2_LANGUAGES,
    detect_language,
    keyword_and_language,
    language_named,
    opt_out_language,
)
from assistant.vocabulary import (
    MODEL_SHORT_MEANINGS,
    MODEL_SHORT_NAMES,
    SECTION_CRIME,
    SECTION_MEANING,
    SECTION_RIGHTS,
    SECTIONS,
    SMS_MAX_TEXT,
    ZIP_RE,
)

MAX_TEXT = SMS_MAX_TEXT
# A number a resident sends: ASCII digits only, as in ZIP_RE. Menus have at most 12 lines.
ASCII_NUMBER_RE = re.compile(r"[0-9]+")
MENU_CHOICE_RE = re.compile(r"[0-9]{1,2}")
MAX_CHOICES = 9
MODEL_LABELS = MODEL_SHORT_NAMES
MODEL_MEANINGS = MODEL_SHORT_MEANINGS

# The whole first turn in one message: who we are, how to get the answer, the privacy line
# and how to change language. Kept short so it costs at most 2 segments in GSM-7 and 3 in
# UCS-2 (Vietnamese, Russian ...) once translated.
FIRST_WELCOME = gettext_lazy(
    "Know Your Police: do police near you work with ICE? Send your ZIP code or county. SMS is "
    "not private. DELETE erases your data. STOP stops. 0: other language."
)
FIRST_WELCOME_WHATSAPP = gettext_lazy(
    "Know Your Police: do police near you work with ICE? Send your ZIP code or county. "
    "WhatsApp is not private. DELETE erases your data. STOP stops. 0: other language."
)
# Asked in English and Spanish when the first text does not tell the language.
LANGUAGE_ASK = gettext_lazy("Send the number of your language:")
OPTED_OUT = gettext_lazy("You will get no more messages. Text START to come back.")
HELP_CONTACT = gettext_lazy("Contact: %(contact)s")
GUIDE_NOT_TRANSLATED = gettext_lazy(
    "The local guide for this is not translated yet. Read it in %(language)s: %(url)s"
)
WELCOME = gettext_lazy(
    "Welcome to Know Your Police. We tell you if police near you work with ICE, and how to "
    "report a crime safely."
)
ASK_PLACE = gettext_lazy("Send your ZIP code or county name.")
LANGUAGE_PROMPT = gettext_lazy("To change language, send its number:")
PRIVACY = gettext_lazy(
    "SMS is not private. Send DELETE to erase what we hold about you, or STOP to stop."
)
LANGUAGE_SET = gettext_lazy("OK, we will write to you in English.")
NOT_FOUND = gettext_lazy(
    "We did not find that place. Send a 5-digit ZIP code, or a county and state, like: "
    "Nassau County, NY"
)
NOT_UNDERSTOOD = gettext_lazy(
    "Sorry, we did not understand. Send a number from the menu, a new ZIP code or county, "
    "HELP for help, or 0 for language."
)
ZIP_UNKNOWN = gettext_lazy(
    "We do not know ZIP code %(zip)s. Send your county and state, like: Nassau County, NY"
)
PICK_PLACE = gettext_lazy("Which one? Send its number:")
ANSWER_YES = gettext_lazy(
    "%(place)s: yes, police here work with ICE under 287(g) (%(models)s) since %(since)s."
)
ANSWER_YES_UNDATED = gettext_lazy(
    "%(place)s: yes, police here work with ICE under 287(g) (%(models)s)."
)
ANSWER_NO = gettext_lazy("%(place)s: no, police here have no 287(g) agreement with ICE.")
ANSWER_AGENCY = gettext_lazy(
    "%(place)s: yes. %(agency)s works with ICE under 287(g) (%(models)s) since %(since)s."
)
ANSWER_AGENCY_UNDATED = gettext_lazy(
    "%(place)s: yes. %(agency)s works with ICE under 287(g) (%(models)s)."
)
ANSWER_AGENCIES = ngettext_lazy(
    "%(place)s: yes. %(agency)s and %(n)s other agency work with ICE under 287(g) "
    "(%(models)s) since %(since)s.",
    "%(place)s: yes. %(agency)s and %(n)s other agencies work with ICE under 287(g) "
    "(%(models)s) since %(since)s.",
    "n",
)
ANSWER_AGENCIES_UNDATED = ngettext_lazy(
    "%(place)s: yes. %(agency)s and %(n)s other agency work with ICE under 287(g) (%(models)s).",
    "%(place)s: yes. %(agency)s and %(n)s other agencies work with ICE under 287(g) (%(models)s).",
    "n",
)
ANSWER_NO_LIST = gettext_lazy(
    "%(place)s: we have not loaded ICE's 287(g) list yet, so we cannot say if police here "
    "work with ICE."
)
ANSWER_LIST_DATE = gettext_lazy("ICE's list of %(date)s.")
ANSWER_LIST_STALE = gettext_lazy("ICE's list of %(date)s may be out of date.")
ANSWER_PENDING = gettext_lazy("An agreement is waiting to start.")
ANSWER_INSIDE = gettext_lazy("Some city police inside this county do have one.")
LINK = gettext_lazy("More: %(url)s")
PLACE_MENU = gettext_lazy(
    "1 What it means here\n2 Reporting a crime\n3 Your rights\n4 Local help\n0 Language"
)
# The same menu on one line, for an answer that would not fit the turn's budget with the
# full one (long answers in UCS-2 languages).
PLACE_MENU_SHORT = gettext_lazy("1 Meaning, 2 Report a crime, 3 Rights, 4 Help, 0 Language")
MEANING_NONE = gettext_lazy(
    "No 287(g) agreement means local police have not agreed to do ICE's work. ICE can still "
    "act on its own."
)
CRIME = gettext_lazy(
    "Call 911 in an emergency. You can report a crime whatever your immigration status. You "
    "can ask for an interpreter. Victims of some crimes can ask for a U visa."
)
RIGHTS = gettext_lazy(
    "You have the right to stay silent. Do not open the door unless agents show a warrant "
    "signed by a judge. Do not sign papers you do not understand. Ask for a lawyer."
)
LOCAL_HELP = gettext_lazy(
    "Legal help and local groups near you: %(url)s In an emergency, call 911."
)
FELL_BACK = gettext_lazy("(Not translated yet: shown in %(language)s.)")
FELL_BACK_STALE = gettext_lazy("(Translation out of date: shown in %(language)s.)")
UNREVIEWED = gettext_lazy("(Not checked by a person yet.)")
HELP = gettext_lazy(
    "Know Your Police: free facts on police and ICE where you live. Send your ZIP code or "
    "county. 0 for language. STOP to stop. DELETE to erase your data."
)
DELETED = gettext_lazy(
    "Done. We erased what we held about you. Send a message any time to start again."
)
WELCOME_BACK = gettext_lazy("Welcome back. You will get replies again.")
SUBSCRIBED = gettext_lazy(
    "Done. We will text you if police in %(place)s start or stop working with ICE. Send STOP "
    "to stop."
)
ALREADY_SUBSCRIBED = gettext_lazy("You already get alerts for %(place)s. Send STOP to stop.")
SUBSCRIBE_NEEDS_PLACE = gettext_lazy(
    "To get alerts, first send your ZIP code or county name. Then send SUBSCRIBE."
)
ONLY_TEXT = gettext_lazy("We can only read text. Send your ZIP code or county name.")
# Issue 18: what the agencies here say they do, public meetings, and reports of mistakes.
FACTS_NONE = gettext_lazy(
    "We have no checked facts yet about language access, status questions or U visas for "
    "police here. More: %(url)s"
)
MEETINGS_HEAD = gettext_lazy("Next public meetings for %(place)s:")
MEETINGS_NONE = gettext_lazy("No public meeting is planned for %(place)s yet.")
MEETINGS_REMIND = gettext_lazy("Send REMIND for a text 2 days before each meeting.")
NEEDS_PLACE = gettext_lazy("First send your ZIP code or county name. Then send %(keyword)s again.")
REMIND_DONE = gettext_lazy(
    "Done. We will text you 2 days before each public meeting for %(place)s, and if police "
    "there start or stop working with ICE. Send STOP to stop."
)
REPORT_ASK = gettext_lazy(
    "What is wrong about %(place)s? Send it in one message. Do not write your name or number."
)
REPORT_THANKS = gettext_lazy(
    "Thank you. Organizers will check it. We did not keep your number with it."
)
# The place's own name is not translated; "and" joins the models in a list.
AND = pgettext_lazy("joining a list of two things", "and")


@dataclass(frozen=True)
class PlaceInfo:
    """A place as the conversation names it."""

    id: int
    label: str


@dataclass(frozen=True)
class AnswerInfo:
    """The computed 287(g) answer for a place, reduced to what one SMS can say."""

    place: PlaceInfo
    has_agreement: bool
    models: tuple[str, ...] = ()  # Agreement.EnforcementModel values in force
    since: date | None = None
    pending: bool = False
    inside: bool = False
    # The list the answer comes from; without one there is no answer, only "not loaded".
    list_date: date | None = None
    list_stale: bool = False
    # The agency residents deal with first (their sheriff or city police), when it has one.
    agency: str = ""
    agency_models: tuple[str, ...] = ()  # of every local agency, when there are others
    agency_since: date | None = None
    other_agencies: int = 0  # local agencies with an agreement besides ``agency``


@dataclass(frozen=True)
class GuideText:
    """One section of a place's guide, in ``language`` (another one when it fell back).

    ``fallback_reason`` is ``"missing"`` or ``"stale"`` when it fell back; ``reviewed`` is
    false when nobody checked the translation yet. ``sentences`` are said in order, as many
    as fit one reply; the link to the page carries the rest.
    """

    text: str
    language: str
    fell_back: bool
    reviewed: bool = True
    fallback_reason: str = ""


class Lookup(Protocol):
    """What the conversation asks of the content; assistant.sms.lookup.DbLookup answers."""

    def places(self, *, query: str) -> list[PlaceInfo]: ...

    def place(self, *, place_id: int) -> PlaceInfo | None: ...

    def answer(self, *, place_id: int) -> AnswerInfo: ...

    def place_url(self, *, place_id: int, language: str) -> str: ...

    def guide_section(self, *, place_id: int, section: str, language: str) -> GuideText | None: ...

    def agency_facts(self, *, place_id: int, language: str) -> str: ...

    def meetings(self, *, place_id: int, language: str, limit: int) -> list[str]: ...


@dataclass(frozen=True)
class State:
    """Where a resident is: their language, place, open menu, and whether they said STOP."""

    language: str = ""
    place_id: int | None = None
    menu: str = ""  # "", "language", "place" or "pick"
    choices: tuple[int, ...] = ()
    opted_out: bool = False
    # The places this number already gets alerts for (filled in by the caller).
    subscribed_place_ids: tuple[int, ...] = ()
    # "sms" or "whatsapp", from the resident's address (filled in by the caller).
    channel: str = SMS


class Effect:
    NONE = ""
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    ERASE = "erase"
    SUBSCRIBE = "subscribe"  # to the alerts of ``state.place_id``, in ``Turn.language``
    REMIND = "remind"  # subscribe, and ask for forum reminders for ``state.place_id``
    REPORT = "report"  # keep ``Turn.report_text`` as a mistake report on ``state.place_id``


@dataclass(frozen=True)
class Turn:
    """What one incoming message leads to: the new state, the replies and what to persist."""

    state: State
    replies: list[str] = field(default_factory=list)
    language: str = "en"
    effect: str = Effect.NONE
    # The resident's words when ``effect`` is REPORT; never stored with their number.
    report_text: str = ""


def converse(*, state: State, text: str, lookup: Lookup) -> Turn:
    """Return the next state and the replies to one incoming message.

    On WhatsApp there is no segment budget, but a turn is one message: the replies are joined.
    """
    with channel_override(state.channel):
        turn = _converse(state=state, text=text, lookup=lookup)
    turn = replace(turn, state=replace(turn.state, channel=state.channel))
    if state.channel == WHATSAPP and len(turn.replies) > 1:
        turn = replace(turn, replies=["\n\n".join(turn.replies)])
    return turn


def _converse(*, state: State, text: str, lookup: Lookup) -> Turn:
    text = _clean_input(text)
    word, word_language = keyword_and_language(text)
    # STOP wins over everything, whatever menu is open; START only means something after it.
    stop_language = opt_out_language(text)
    if _opts_out(word, stop_language):
        if state.opted_out:
            return Turn(state, [], state.language or "en")
        language = (
            state.language or word_language or stop_language or detect_language(text).language
        ) or "en"
        # The one confirmation carriers expect; the last message until START.
        return _turn(replace(state, opted_out=True), language, [OPTED_OUT], effect=Effect.OPT_OUT)
    if state.opted_out:
        if word == "start":
            state = replace(state, opted_out=False)
            language = state.language or "en"
            return _turn(state, language, [WELCOME_BACK, ASK_PLACE], effect=Effect.OPT_IN)
        return Turn(state, [], state.language or "en")
    if word == "delete":
        language = state.language or word_language or "en"
        return _turn(State(), language, [DELETED], effect=Effect.ERASE)

    named = language_named(text)
    if named:
        return _language_chosen(state, named, lookup)
    if not state.language:
        return _first_message(state, text, word, word_language, lookup)
    language = state.language
    if state.menu == "report" and text and not word and state.place_id:
        return _report_received(state, language, text)
    if word in ("meetings", "remind", "report"):
        return _trust_keyword(state, language, word, lookup)
    if word == "help":
        return _turn(state, language, _help_parts(language))
    if word == "language":
        return _language_menu(state, language)
    if word == "subscribe":
        return _subscribe(state, language, lookup)
    if word in ("menu", "start") and state.place_id:
        return _place_reply(replace(state, menu="place"), language, lookup)
    if not text:
        return _turn(state, language, [ONLY_TEXT])

    digits = text.strip()
    if state.menu == "language" and (choice := _menu_choice(digits, len(LANGUAGE_MENU))):
        return _language_chosen(state, LANGUAGE_CODES[choice - 1], lookup)
    if state.menu == "pick" and (choice := _menu_choice(digits, len(state.choices))):
        place_id = state.choices[choice - 1]
        new_state = replace(state, place_id=place_id, menu="place", choices=())
        return _place_reply(new_state, language, lookup)
    if digits == "0":
        return _language_menu(state, language)
    if state.place_id and digits == FACTS_DIGIT:
        return _facts_reply(state, language, lookup)
    if state.place_id and digits in SECTIONS:
        return _section_reply(state, language, SECTIONS[digits], lookup)

    found = _find_place(state, text, language, lookup)
    if found is not None:
        return found
    return _turn(state, language, [NOT_UNDERSTOOD if state.place_id else NOT_FOUND])


def is_opt_out(text: str) -> bool:
    """Return True when ``text`` opts out (STOP and the sentences carriers treat as one).

    The webhook answers these itself, so the confirmation goes in its TwiML."""
    text = _clean_input(text)
    return _opts_out(keyword_and_language(text)[0], opt_out_language(text))


def _opts_out(word: str, stop_language: str | None) -> bool:
    return word == "stop" or stop_language is not None


FACTS_DIGIT = "5"


def _trust_keyword(state: State, language: str, word: str, lookup: Lookup) -> Turn:
    """Answer MEETINGS, REMIND and REPORT, or ask for the place first."""
    place = lookup.place(place_id=state.place_id) if state.place_id else None
    if place is None:
        keyword_text = {"meetings": "MEETINGS", "remind": "REMIND", "report": "REPORT"}[word]
        return _turn(state, language, [(NEEDS_PLACE, {"keyword": keyword_text})])
    values = {"place": place.label}
    if word == "report":
        return _turn(replace(state, menu="report", choices=()), language, [(REPORT_ASK, values)])
    if word == "remind":
        ids = state.subscribed_place_ids
        if place.id not in ids:
            state = replace(state, subscribed_place_ids=(*ids, place.id))
        return _turn(state, language, [(REMIND_DONE, values)], effect=Effect.REMIND)
    lines = lookup.meetings(place_id=place.id, language=language, limit=2)
    state = replace(state, menu="place", choices=())
    if not lines:
        return _turn(state, language, [(MEETINGS_NONE, values)])
    with translation.override(language):
        head = str(MEETINGS_HEAD) % values
        tail = str(MEETINGS_REMIND)
    body = fit_sentences(head=head, text="\n".join(lines), tail=tail, language=language)
    return Turn(state, [body], language)


def _report_received(state: State, language: str, text: str) -> Turn:
    state = replace(state, menu="place", choices=())
    turn = _turn(state, language, [REPORT_THANKS], effect=Effect.REPORT)
    return replace(turn, report_text=text)


def _facts_reply(state: State, language: str, lookup: Lookup) -> Turn:
    """Say what the agencies here say about language access, status questions and visas."""
    url = lookup.place_url(place_id=state.place_id, language=language)
    text = lookup.agency_facts(place_id=state.place_id, language=language)
    state = replace(state, menu="place", choices=())
    with translation.override(language):
        if not text:
            return Turn(state, pack([str(FACTS_NONE) % {"url": url}], language=language), language)
        link = str(LINK) % {"url": url}
    return Turn(state, [fit_sentences(head="", text=text, tail=link, language=language)], language)


def turn_budget(language: str) -> int:
    """Return the segments one turn (all its replies) may cost in ``language``."""
    if on_whatsapp():
        return WHATSAPP_BUDGET
    return 3 if language in UCS2_LANGUAGES else 2


def turn_segments(replies: list[str]) -> int:
    """Return what a turn's replies cost, in segments."""
    return sum(count_segments(body).segments for body in replies)


def may_repeat(text: str) -> bool:
    """Return True for what a resident resends when a reply is slow: a ZIP code, a menu
    number or a keyword. The loop guard (assistant/services/sms_inbound.py) lets these
    through, within the hourly limit; another bot's echo is a sentence."""
    text = _clean_input(text)
    return (
        bool(ZIP_RE.match(text))
        or bool(ASCII_NUMBER_RE.fullmatch(text))
        or bool(keyword_and_language(text)[0])
    )


def _menu_choice(text: str, count: int) -> int | None:
    """Return the number (1 to ``count``) ``text`` chooses from a menu, or None.

    ASCII digits only, like the menus themselves: "³" and "①" pass str.isdigit() and make
    int() fail, and int() reads "٣" and "３" as 3. Anything else is text, answered as text.
    """
    if not MENU_CHOICE_RE.fullmatch(text):
        return None
    number = int(text)
    return number if 1 <= number <= count else None


def _help_parts(language: str) -> list:
    contact = settings.SMS_HELP_CONTACT
    if contact:
        return [HELP, (HELP_CONTACT, {"contact": contact})]
    return [HELP, (LINK, {"url": f"{settings.PUBLIC_BASE_URL}/{language}/"})]


def _clean_input(text: str) -> str:
    text = (text or "")[:MAX_TEXT]
    # Control characters (a NUL from a broken phone) carry no meaning.
    text = "".join(ch for ch in text if ch in "\n\t" or ch.isprintable())
    return text.strip()


def _render(language: str, parts) -> list[str]:
    """Translate each part in ``language`` and pack them into SMS bodies."""
    with translation.override(language):
        rendered = [_part_text(part) for part in parts]
    return pack(rendered, language=language)


def _part_text(part) -> str:
    if isinstance(part, Verbatim):
        return part
    if isinstance(part, tuple):
        template, values = part
        return str(template) % values
    return str(part)


def _turn(state, language, parts, *, effect=Effect.NONE) -> Turn:
    return Turn(state, _render(language, parts), language, effect)


def _first_welcome():
    return FIRST_WELCOME_WHATSAPP if on_whatsapp() else FIRST_WELCOME


def language_menu_text() -> Verbatim:
    """Return the numbered list of languages, each in its own name."""
    return Verbatim(
        "\n".join(f"{number} {name}" for number, (_c, name) in enumerate(LANGUAGE_MENU, 1))
    )


def _first_message(state: State, text: str, word: str, word_language: str, lookup) -> Turn:
    if state.menu == "language" and (choice := _menu_choice(text, len(LANGUAGE_MENU))):
        # The answer to the language question we asked: never ask it again.
        return _language_chosen(state, LANGUAGE_CODES[choice - 1], lookup)
    if word:
        detection_language = word_language
    else:
        detection_language = detect_language(text).language
    places = _places_for(text, lookup) if text and not word else []
    if word == "language" or (not detection_language and not places):
        return _ask_language(state)
    language = detection_language or "en"
    state = replace(state, language=language, menu="")
    if word == "help":
        return _turn(state, language, _help_parts(language))
    if places:
        turn = _places_turn(state, places, language, lookup)
        welcome = _render(language, [_first_welcome()])
        return Turn(turn.state, _merge(welcome + turn.replies, language), language)
    if word == "subscribe":
        return _turn(state, language, [_first_welcome(), SUBSCRIBE_NEEDS_PLACE])
    return _turn(state, language, [_first_welcome()])


def _ask_language(state: State) -> Turn:
    """Ask for the language in English and Spanish, with the menu that answers it."""
    state = replace(state, menu="language")
    asks = []
    for language in ("en", "es"):
        with translation.override(language):
            asks.append(str(LANGUAGE_ASK))
    bodies = pack([Verbatim(" / ".join(asks)), language_menu_text()], language="en")
    return Turn(state, bodies, "en")


def _merge(bodies: list[str], language: str) -> list[str]:
    """Return ``bodies`` joined into one message when that costs no more segments."""
    joined = "\n".join(bodies)
    if len(bodies) > 1 and count_segments(joined).segments <= turn_segments(bodies):
        if count_segments(joined).segments <= budget_for(language):
            return [joined]
    return bodies


def _subscribe(state: State, language: str, lookup: Lookup) -> Turn:
    """Subscribe to the known place's alerts, or ask for the place first."""
    place = lookup.place(place_id=state.place_id) if state.place_id else None
    if place is None:
        return _turn(state, language, [SUBSCRIBE_NEEDS_PLACE])
    values = {"place": place.label}
    if place.id in state.subscribed_place_ids:
        return _turn(state, language, [(ALREADY_SUBSCRIBED, values)])
    state = replace(state, subscribed_place_ids=(*state.subscribed_place_ids, place.id))
    return _turn(state, language, [(SUBSCRIBED, values)], effect=Effect.SUBSCRIBE)


def _language_menu(state: State, language: str) -> Turn:
    state = replace(state, menu="language")
    return _turn(state, language, [LANGUAGE_PROMPT, language_menu_text()])


def _language_chosen(state: State, language: str, lookup: Lookup) -> Turn:
    first = not state.language
    state = replace(state, language=language, menu="place" if state.place_id else "")
    if state.place_id:
        with translation.override(language):
            parts = [str(LANGUAGE_SET), *_place_parts(state, language, lookup)]
        return Turn(state, pack(parts, language=language), language)
    if first:
        # The resident's first reply in their language: it carries the privacy line.
        return _turn(state, language, [_first_welcome()])
    return _turn(state, language, [LANGUAGE_SET, ASK_PLACE])


def _places_for(text: str, lookup: Lookup) -> list[PlaceInfo]:
    if len(text) > 120 or not any(ch.isalnum() for ch in text):
        return []
    # "hi", "ok", "me", "in": a two-letter word alone is a word, not a state. A state is
    # found by its full name, or after a county or city ("Nassau County, NY").
    if re.fullmatch(r"[^\w]*\w{1,2}[^\w]*", text):
        return []
    return lookup.places(query=text)


def _find_place(state: State, text: str, language: str, lookup: Lookup) -> Turn | None:
    places = _places_for(text, lookup)
    if places:
        return _places_turn(state, places, language, lookup)
    zip_match = ZIP_RE.match(text)
    if zip_match:
        return _turn(state, language, [(ZIP_UNKNOWN, {"zip": zip_match.group(1)})])
    return None


def _places_turn(state, places: list[PlaceInfo], language: str, lookup: Lookup) -> Turn:
    if len(places) == 1:
        new_state = replace(state, place_id=places[0].id, menu="place", choices=())
        return _place_reply(new_state, language, lookup)
    places = places[:MAX_CHOICES]
    listing = "\n".join(f"{number} {place.label}" for number, place in enumerate(places, 1))
    new_state = replace(state, menu="pick", choices=tuple(place.id for place in places))
    return _turn(new_state, language, [PICK_PLACE, listing])


def _models_text(models: tuple[str, ...]) -> str:
    labels = [str(MODEL_LABELS.get(model, model)) for model in models]
    if len(labels) <= 1:
        return "".join(labels)
    return ", ".join(labels[:-1]) + f" {AND} " + labels[-1]


def answer_sentence(answer: AnswerInfo) -> list[str]:
    """Return the one-sentence answer (and its footnotes) in the active language."""
    place = answer.place.label
    if answer.list_date is None:
        return [str(ANSWER_NO_LIST) % {"place": place}]
    if answer.agency:
        models = _models_text(answer.agency_models)
        values = {"place": place, "agency": answer.agency, "models": models}
        others = answer.other_agencies
        if answer.agency_since:
            values["since"] = f"{answer.agency_since.month}/{answer.agency_since.year}"
            sentence = ANSWER_AGENCIES if others else ANSWER_AGENCY
        else:
            sentence = ANSWER_AGENCIES_UNDATED if others else ANSWER_AGENCY_UNDATED
        if others:
            values["n"] = others
        parts = [str(sentence % values)]
    elif answer.has_agreement:
        models = _models_text(answer.models)
        if answer.since:
            since = f"{answer.since.month}/{answer.since.year}"
            parts = [str(ANSWER_YES) % {"place": place, "models": models, "since": since}]
        else:
            parts = [str(ANSWER_YES_UNDATED) % {"place": place, "models": models}]
    else:
        parts = [str(ANSWER_NO) % {"place": place}]
        if answer.inside:
            parts.append(str(ANSWER_INSIDE))
    if answer.pending:
        parts.append(str(ANSWER_PENDING))
    listed = f"{answer.list_date.month}/{answer.list_date.day}/{answer.list_date.year}"
    dated = ANSWER_LIST_STALE if answer.list_stale else ANSWER_LIST_DATE
    parts.append(str(dated) % {"date": listed})
    return [" ".join(parts)]


def _place_parts(state: State, language: str, lookup: Lookup) -> list[str]:
    """Return the answer, the link and the menu for the state's place, in ``language``."""
    answer = lookup.answer(place_id=state.place_id)
    url = lookup.place_url(place_id=state.place_id, language=language)
    with translation.override(language):
        return [*answer_sentence(answer), str(LINK) % {"url": url}, str(PLACE_MENU)]


def _place_reply(state: State, language: str, lookup: Lookup) -> Turn:
    parts = _place_parts(state, language, lookup)
    *answer, link, menu = parts
    answer = [emphasis(sentence) for sentence in answer]
    with translation.override(language):
        short_menu = str(PLACE_MENU_SHORT)
    # The answer always; then what fits the turn's budget: the page link and the menu, or
    # the menu on one line, or that menu alone (every menu item carries the link).
    for candidate in ([*answer, link, menu], [*answer, link, short_menu], [*answer, short_menu]):
        bodies = pack(candidate, language=language)
        if turn_segments(bodies) <= turn_budget(language):
            break
    return Turn(state, bodies, language)


def _section_reply(state: State, language: str, section: str, lookup: Lookup) -> Turn:
    guide = lookup.guide_section(place_id=state.place_id, section=section, language=language)
    url = lookup.place_url(place_id=state.place_id, language=language)
    with translation.override(language):
        if guide and guide.text.strip() and _unreadable_fallback(guide, language):
            # English sent in UCS-2 costs three times as much and is cut to fit: say, in the
            # resident's language, what is true everywhere and where the local text is.
            link = str(LINK) % {"url": url}
            parts = _generic_section(section, lookup.answer(place_id=state.place_id), url)
            name = _language_name(guide.language)
            note = str(GUIDE_NOT_TRANSLATED) % {"language": name, "url": url}
            text = "\n".join(p for p in parts if p != link)
            body = fit_sentences(head="", text=text, tail=note, language=language)
            return Turn(replace(state, menu="place", choices=()), [body], language)
        if guide and guide.text.strip():
            bodies = [_guide_body(guide, language, str(LINK) % {"url": url})]
            return Turn(replace(state, menu="place", choices=()), bodies, language)
        parts = _generic_section(section, lookup.answer(place_id=state.place_id), url)
        parts.append(str(PLACE_MENU))
    new_state = replace(state, menu="place", choices=())
    return Turn(new_state, pack(parts, language=language), language)


def _unreadable_fallback(guide: GuideText, language: str) -> bool:
    """Return True when the guide fell back to another language and the reply is UCS-2."""
    return guide.fell_back and guide.language != language and language in UCS2_LANGUAGES


def _language_name(code: str) -> str:
    """Return the name of language ``code`` in the active language ("Angle" in Kreyol)."""
    return str(dict(settings.LANGUAGES).get(code, code))


def _guide_notes(guide: GuideText) -> list[str]:
    """Return what the reply must say about the guide text's language, in the active one."""
    notes = []
    if guide.fell_back:
        name = _language_name(guide.language)
        template = FELL_BACK_STALE if guide.fallback_reason == "stale" else FELL_BACK
        notes.append(str(template) % {"language": name})
    if not guide.reviewed:
        notes.append(str(UNREVIEWED))
    return notes


def _guide_body(guide: GuideText, language: str, link: str) -> str:
    """Return one reply: the language notes, as many whole sentences as fit, and the link.

    The organizers' text can be long; one reply is cut at a sentence boundary and the link
    to the page carries the rest, so a resident never pays for a stream of messages.
    """
    head = " ".join(_guide_notes(guide))
    return fit_sentences(head=head, text=guide.text, tail=link, language=language)


def _generic_section(section: str, answer: AnswerInfo, url: str) -> list[str]:
    if section == SECTION_MEANING:
        if answer.list_date is None:
            return [str(ANSWER_NO_LIST) % {"place": answer.place.label}]
        if not answer.has_agreement:
            return [str(MEANING_NONE)]
        return [" ".join(str(MODEL_MEANINGS[m]) for m in answer.models if m in MODEL_MEANINGS)]
    if section == SECTION_CRIME:
        return [str(CRIME), str(LINK) % {"url": url}]
    if section == SECTION_RIGHTS:
        return [str(RIGHTS)]
    return [str(LOCAL_HELP) % {"url": url}]
