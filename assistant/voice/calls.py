"""The voice line's call, one keypress at a time: the step the caller is on and the keys they
pressed → the TwiML that answers.

Nothing about the caller is kept between steps: the step, the language, the page of the
language menu and the places found travel in the Gather's action address (no number, no call
sid). Languages Twilio speaks are synthesised with ``<Say>``; the others play organizers'
reviewed recordings with ``<Play>``, and a prompt without one is said in Spanish after a notice.
"""

import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import formats, translation
from twilio.twiml.voice_response import VoiceResponse

from assistant.places.models import Place
from assistant.places.selectors import counties_for_zip, place_answer
from assistant.sms.conversation import answer_sentence
from assistant.sms.lookup import DbLookup
from assistant.vocabulary import SECTION_CRIME, SECTION_HELP, SECTION_RIGHTS
from assistant.voice import prompts
from assistant.voice.models import VoiceLanguage, VoiceRecording
from assistant.voice.selectors import (
    PAGE_SIZE,
    ice_list_date,
    language_menu_page,
    reviewed_recordings,
    voice_language,
)
from assistant.voice.services import call_count_add

STEPS = ("start", "language", "zip", "menu")
MENU_SECTIONS = {"1": SECTION_CRIME, "2": SECTION_RIGHTS, "3": SECTION_HELP}
GENERIC_SECTIONS = {
    SECTION_CRIME: prompts.RECORDED["crime"],
    SECTION_RIGHTS: prompts.RECORDED["rights"],
}
FALLBACK_LANGUAGE = "es"
# Used when no active "es" row exists: the line must always have a language to fall back to.
FALLBACK_SAY = ("es-MX", "Polly.Mia")
GATHER_TIMEOUT = 8
_ASCII_DIGITS = re.compile(r"[0-9*#]{1,8}", re.ASCII)
# A phone number, read slowly: each digit on its own ("5, 1, 6 …").
_PHONE = re.compile(r"\(?\+?\d[\d\s().-]{5,}\d", re.ASCII)


class CallRefused(ValueError):
    """The request does not describe a step of a call (400, never 500)."""


@dataclass(frozen=True)
class CallStep:
    """Where a call is: parsed from the action address and Twilio's Digits."""

    step: str = "start"
    language: str = ""
    page: int = 0
    place_ids: tuple[int, ...] = ()
    last: str = ""
    digits: str = ""
    # False in the admin's call simulator: a rehearsal is not a call.
    counted: bool = True


def _count(step: CallStep, *, language: str, name: str) -> None:
    if step.counted:
        call_count_add(language=language, step=name)


def call_step_parse(query: dict, digits: str, *, counted: bool = True) -> CallStep:
    """Return the CallStep in ``query`` (the action address) and ``digits``; raise CallRefused."""
    step = query.get("step", "start") or "start"
    if step not in STEPS:
        raise CallRefused("unknown step")
    digits = (digits or "").strip()
    if digits and not _ASCII_DIGITS.fullmatch(digits):
        raise CallRefused("Digits must be 0-9, * or #")
    page = query.get("page", "0") or "0"
    if not re.fullmatch(r"[0-9]{1,2}", page, re.ASCII):
        raise CallRefused("bad page")
    places = query.get("place", "")
    if places and not re.fullmatch(r"[0-9]{1,9}(,[0-9]{1,9}){0,2}", places, re.ASCII):
        raise CallRefused("bad place")
    language = query.get("lang", "")
    if step != "start" and step != "language" and not language:
        raise CallRefused("lang is required")
    return CallStep(
        step=step,
        language=language,
        page=int(page),
        place_ids=tuple(int(p) for p in places.split(",")) if places else (),
        last=query.get("last", "")[:16],
        digits=digits,
        counted=counted,
    )


def call_action(**params) -> str:
    """Return the address the next keypress is posted to."""
    params = {k: v for k, v in params.items() if v not in ("", None, ())}
    return reverse("voice_inbound") + ("?" + urlencode(params) if params else "")


@dataclass
class Speaker:
    """Say or play prompts in one language into a TwiML verb, falling back to Spanish."""

    language: VoiceLanguage
    fallback: VoiceLanguage | None
    recordings: dict[str, VoiceRecording] = field(default_factory=dict)
    noticed: bool = False

    @classmethod
    def for_language(cls, language: VoiceLanguage) -> "Speaker":
        fallback = voice_language(code=FALLBACK_LANGUAGE)
        recordings = {} if language.synthesised else reviewed_recordings(language=language)
        return cls(language=language, fallback=fallback, recordings=recordings)

    def _say(self, verb, text: str, code: str, say: tuple[str, str]) -> None:
        kwargs = {"language": say[0]}
        if say[1]:
            kwargs["voice"] = say[1]
        verb.say(_slow_numbers(text), **kwargs)

    def _spanish(self, verb, text, values: dict | None = None) -> None:
        say = (
            (self.fallback.say_language, self.fallback.say_voice)
            if self.fallback and self.fallback.synthesised
            else FALLBACK_SAY
        )
        with translation.override(FALLBACK_LANGUAGE):
            self._say(verb, str(text) % values if values else str(text), FALLBACK_LANGUAGE, say)

    def text(self, verb, text: str) -> None:
        """Say text that is already in this language (a guide section, names and numbers).

        In a recorded language only names and numbers are passed here, said by the Spanish voice.
        """
        if self.language.synthesised:
            self._say(verb, text, self.language.code, self._own_say())
        else:
            self._spanish(verb, "%(text)s", {"text": text})

    def _own_say(self) -> tuple[str, str]:
        return (self.language.say_language, self.language.say_voice)

    def prompt(self, verb, key: str, text, values: dict | None = None) -> None:
        """Say ``text`` translated, or play the recording of ``key``, else say it in Spanish."""
        if self.language.synthesised:
            with translation.override(self.language.code):
                rendered = str(text) % values if values else str(text)
            self._say(verb, rendered, self.language.code, self._own_say())
        elif key in self.recordings:
            verb.play(self.recordings[key].public_url())
        else:
            self.notice(verb)
            self._spanish(verb, text, values)

    def notice(self, verb) -> None:
        """Tell the caller, once per answer, that what follows is in Spanish."""
        if self.noticed:
            return
        self.noticed = True
        if "fallback" in self.recordings:
            verb.play(self.recordings["fallback"].public_url())
        else:
            self._spanish(verb, prompts.FALLBACK_NOTICE)


def _slow_numbers(text: str) -> str:
    def spaced(match: re.Match) -> str:
        digits = [ch for ch in match.group(0) if ch.isdigit()]
        return ", ".join(digits) + ","

    return _PHONE.sub(spaced, text)


def call_respond(step: CallStep) -> VoiceResponse:
    """Return the TwiML for one step of a call; count it (day, language, step) and nothing else."""
    if step.step in ("start", "language"):
        return _language_step(step)
    language = voice_language(code=step.language)
    if language is None:
        return _language_menu(page=0)
    speaker = Speaker.for_language(language)
    if step.step == "zip":
        return _zip_step(step, speaker)
    return _menu_step(step, speaker)


def _no_input(response: VoiceResponse, speaker: Speaker | None = None) -> VoiceResponse:
    if speaker is None:
        with translation.override("en"):
            response.say(str(prompts.NO_INPUT), language="en-US")
    else:
        speaker.prompt(response, "no_input", prompts.NO_INPUT)
    response.hangup()
    return response


def _language_menu(*, page: int) -> VoiceResponse:
    response = VoiceResponse()
    options, more = language_menu_page(page=page)
    if not options:
        page, (options, more) = 0, language_menu_page(page=0)
    gather = response.gather(
        num_digits=1, action=call_action(step="language", page=page), timeout=GATHER_TIMEOUT
    )
    for key, language in options:
        speaker = Speaker.for_language(language)
        if language.synthesised or "language_option" in speaker.recordings:
            speaker.prompt(gather, "language_option", prompts.LANGUAGE_OPTION, {"digit": key})
        else:
            # No reviewed recording yet: the language's own name and its key, in Spanish.
            speaker._spanish(gather, "%(name)s: %(digit)s.", {"name": language.name, "digit": key})
    if more:
        for code, say in (("en", ("en-US", "")), (FALLBACK_LANGUAGE, FALLBACK_SAY)):
            with translation.override(code):
                gather.say(str(prompts.MORE_LANGUAGES), language=say[0])
    return _no_input(response)


def _language_step(step: CallStep) -> VoiceResponse:
    if step.step == "start":
        _count(step, language="", name="call")
        return _language_menu(page=0)
    options, more = language_menu_page(page=step.page)
    if step.digits == "9" and more:
        return _language_menu(page=step.page + 1 if len(options) == PAGE_SIZE else 0)
    chosen = dict(options).get(step.digits)
    if chosen is None:
        return _language_menu(page=step.page)
    _count(step, language=chosen.code, name="language")
    speaker = Speaker.for_language(chosen)
    return _ask_zip(speaker, first=("welcome", prompts.WELCOME))


def _ask_zip(speaker: Speaker, first: tuple | None = None) -> VoiceResponse:
    # Inside the Gather, so a caller who knows the way can type the ZIP code at once.
    response = VoiceResponse()
    gather = response.gather(
        num_digits=5,
        action=call_action(step="zip", lang=speaker.language.code),
        timeout=GATHER_TIMEOUT,
    )
    if first:
        speaker.prompt(gather, *first)
    speaker.prompt(gather, "ask_zip", prompts.ASK_ZIP)
    return _no_input(response, speaker)


def _zip_step(step: CallStep, speaker: Speaker) -> VoiceResponse:
    places = counties_for_zip(zip_code=step.digits) if len(step.digits) == 5 else []
    if not places:
        _count(step, language=speaker.language.code, name="zip_unknown")
        return _ask_zip(speaker, first=("zip_unknown", prompts.ZIP_UNKNOWN))
    _count(step, language=speaker.language.code, name="answer")
    step = CallStep(step="menu", language=step.language, place_ids=tuple(p.pk for p in places[:3]))
    return _with_menu(step, speaker, last="answer")


def _with_menu(step: CallStep, speaker: Speaker, *, last: str) -> VoiceResponse:
    response = VoiceResponse()
    action = call_action(
        step="menu",
        lang=step.language,
        place=",".join(str(p) for p in step.place_ids),
        last=last,
    )
    gather = response.gather(num_digits=1, action=action, timeout=GATHER_TIMEOUT)
    if last == "answer":
        _answer(gather, speaker, step.place_ids)
    else:
        _section(gather, speaker, step.place_ids, last)
    speaker.prompt(gather, "menu", prompts.MENU)
    return _no_input(response, speaker)


def _menu_step(step: CallStep, speaker: Speaker) -> VoiceResponse:
    if not step.place_ids or not Place.objects.filter(pk__in=step.place_ids).exists():
        return _ask_zip(speaker)
    if step.digits == "0":
        return _ask_zip(speaker)
    if step.digits == "*":
        return _with_menu(step, speaker, last=step.last if step.last else "answer")
    section = MENU_SECTIONS.get(step.digits)
    if section is None:
        return _with_menu(step, speaker, last="menu")
    _count(step, language=speaker.language.code, name=section)
    return _with_menu(step, speaker, last=section)


def _answer(verb, speaker: Speaker, place_ids: tuple[int, ...]) -> None:
    """Say who works with ICE here, under which model, since when, and the list's date."""
    list_date = ice_list_date()
    if list_date is None:
        speaker.prompt(verb, "no_list", prompts.NO_LIST)
        return
    lookup = DbLookup()
    code = speaker.language.code
    for place in Place.objects.filter(pk__in=place_ids).select_related("state"):
        answer = place_answer(place=place)
        if not speaker.language.synthesised:
            models = sorted({fact.enforcement_model for fact in answer.active})
            for model in models or ["no"]:
                key = f"yes_{model}" if model != "no" else "no"
                speaker.prompt(verb, key, prompts.RECORDED[key])
            continue
        with translation.override(code):
            sentence = " ".join(answer_sentence(lookup.answer(place_id=place.pk)))
            agencies = sorted({fact.agency_name for fact in answer.active})
            if agencies:
                sentence += " " + str(prompts.AGENCIES) % {"agencies": ", ".join(agencies)}
        speaker.text(verb, sentence)
    with translation.override(code if speaker.language.synthesised else FALLBACK_LANGUAGE):
        shown = formats.date_format(list_date, "DATE_FORMAT")
    speaker.prompt(verb, "list_date", prompts.LIST_DATE, {"date": shown})


def _section(verb, speaker: Speaker, place_ids: tuple[int, ...], section: str) -> None:
    """Say one menu item: the place's guide when it has one in this language, else the
    true-everywhere text; local help reads each number slowly."""
    if section not in (SECTION_CRIME, SECTION_RIGHTS, SECTION_HELP):
        return
    lookup = DbLookup()
    guide = None
    if speaker.language.synthesised or section == SECTION_HELP:
        language = speaker.language.code if speaker.language.synthesised else FALLBACK_LANGUAGE
        guide = lookup.guide_section(place_id=place_ids[0], section=section, language=language)
    if section == SECTION_HELP:
        speaker.prompt(verb, "help", prompts.RECORDED["help"])
        if guide is None:
            speaker.prompt(verb, "no_help", prompts.NO_HELP)
        else:
            # The title is said above; the rest is names and numbers.
            speaker.text(verb, "\n".join(guide.text.split("\n")[1:]))
        return
    if guide is not None and not guide.fell_back and speaker.language.synthesised:
        speaker.text(verb, guide.text)
    else:
        speaker.prompt(
            verb, section if section != SECTION_CRIME else "crime", GENERIC_SECTIONS[section]
        )
