"""Turn reply parts into SMS bodies that cost as few segments as they can.

A single curly quote or non-breaking space makes Twilio send a whole message as UCS-2 (70
characters a segment instead of 160), so every body is cleaned. In languages that Twilio can
send in GSM-7, accents outside GSM-7 (Spanish á, Portuguese ã, French ç) are replaced by the
plain letter unless SMS_KEEP_ACCENTS lists the language. Parts are then packed into as few
bodies as the segment budget allows, split at sentence boundaries when one is too long.
"""

import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings

from assistant.delivery.segments import count_segments, is_gsm7
from assistant.sms.language import UCS2_LANGUAGES

# Segments one body may cost: GSM-7 languages, and languages that are always UCS-2.
GSM7_BUDGET = 3
UCS2_BUDGET = 5

_LOOKALIKES = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u2032": "'",
    "\u00b4": "'",
    "`": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2012": "-",
    "\u2212": "-",
    "\u2010": "-",
    "\u2011": "-",
    "\u2026": "...",
    "\u2022": "-",
    "\u00b7": "-",
    "\t": " ",
    "ç": "c",  # GSM-7 has only the capital Ç
}
# Spaces that look like a space but cost UCS-2, and characters that are not seen at all.
_SPACES = re.compile(r"[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
_INVISIBLE = re.compile(r"[\u200b-\u200d\u2060\ufeff\u00ad]")
# Persian needs the zero-width non-joiner (U+200C) to spell words; UCS-2 costs nothing more.
_INVISIBLE_UCS2 = re.compile(r"[\u200b\u2060\ufeff\u00ad]")


# The channel a reply goes out on. WhatsApp has no segments: a turn is one message of up to
# WHATSAPP_BUDGET "segments" (under the 1,600 characters Twilio takes in one body), accents
# stay, and the answer is bold (*…*).
SMS, WHATSAPP = "sms", "whatsapp"
WHATSAPP_BUDGET = 10
_channel: ContextVar[str] = ContextVar("reply_channel", default=SMS)


@contextmanager
def channel_override(channel: str) -> Iterator[None]:
    """Compose the replies made inside the block for ``channel`` (like translation.override)."""
    token = _channel.set(channel or SMS)
    try:
        yield
    finally:
        _channel.reset(token)


def on_whatsapp() -> bool:
    """Return True while composing replies for WhatsApp."""
    return _channel.get() == WHATSAPP


def emphasis(text: str) -> str:
    """Return ``text`` in bold on WhatsApp (``*text*``); unchanged on SMS, which has no bold."""
    text = text.strip()
    return f"*{text}*" if on_whatsapp() and text else text


class Verbatim(str):
    """A part sent as written (names of languages in their own script), only cleaned of
    invisible characters: never folded to GSM-7."""


def budget_for(language: str) -> int:
    """Return how many segments one reply may cost in ``language``."""
    if on_whatsapp():
        return WHATSAPP_BUDGET
    return UCS2_BUDGET if language in UCS2_LANGUAGES else GSM7_BUDGET


def keeps_accents(language: str) -> bool:
    """Return True when replies in ``language`` keep accents that force UCS-2."""
    return language in settings.SMS_KEEP_ACCENTS


def clean(text: str, *, language: str) -> str:
    """Return ``text`` without characters that cost more and show nothing more."""
    verbatim = isinstance(text, Verbatim)
    text = unicodedata.normalize("NFC", text)
    text = _SPACES.sub(" ", text)
    if verbatim or language in UCS2_LANGUAGES or on_whatsapp():
        return _INVISIBLE_UCS2.sub("", text)
    text = _INVISIBLE.sub("", text)
    if keeps_accents(language):
        return "".join(ch if ch == "ç" or ch not in _LOOKALIKES else _LOOKALIKES[ch] for ch in text)
    return "".join(_gsm7_char(ch) for ch in text)


def _gsm7_char(ch: str) -> str:
    if is_gsm7(ch):
        return ch
    if ch in _LOOKALIKES:
        return _LOOKALIKES[ch]
    base = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
    return base if base and is_gsm7(base) else ch


_SENTENCE_END = re.compile(r"(?<=[.!?。！？؟])\s+|(?<=[。！？])|\n+")


def sentences(text: str) -> list[str]:
    """Return ``text`` cut after each sentence (and at line breaks)."""
    return [piece.strip() for piece in _SENTENCE_END.split(text) if piece and piece.strip()]


def _fits(text: str, budget: int) -> bool:
    return count_segments(text).segments <= budget


def pack(parts: list[str], *, language: str) -> list[str]:
    """Return the fewest bodies that hold ``parts`` in order, each within the budget.

    Parts are joined by line breaks. A GSM-7 body never takes in a part that would turn it
    into UCS-2 (the language menu, with every language in its own script, goes alone).
    """
    budget = budget_for(language)
    bodies: list[str] = []
    current = ""
    for part in (clean(p, language=language).strip() for p in parts):
        if not part:
            continue
        pieces = [part] if count_segments(part).segments <= budget else sentences(part)
        for piece in pieces:
            piece = _truncate(piece, budget)
            if not current:
                current = piece
                continue
            candidate = f"{current}\n{piece}"
            same_encoding = is_gsm7(current) == is_gsm7(piece)
            if _fits(candidate, budget) and (
                same_encoding or language in UCS2_LANGUAGES or on_whatsapp()
            ):
                current = candidate
            else:
                bodies.append(current)
                current = piece
    if current:
        bodies.append(current)
    return bodies


def _truncate(text: str, budget: int) -> str:
    # A single sentence over the whole budget (a long guide text) is cut at a word.
    if count_segments(text).segments <= budget:
        return text
    words = text.split(" ")
    while words and count_segments(" ".join(words) + "...").segments > budget:
        words.pop()
    return " ".join(words) + "..."


def fit_sentences(*, head: str, text: str, tail: str, language: str) -> str:
    """Return one body: ``head``, then ``text``'s sentences while they fit, then ``tail``.

    Sentences are kept whole and in order (line breaks in ``text`` are kept); the first one
    that does not fit ends the text, and a first sentence too long on its own is cut at a
    word. ``head`` and ``tail`` always stay, so the resident learns what language they read
    and where the rest is.
    """
    budget = budget_for(language)
    head, tail = clean(head, language=language).strip(), clean(tail, language=language).strip()
    units: list[tuple[str, str]] = []  # (separator before it, sentence)
    lines = [line for line in clean(text, language=language).split("\n") if line.strip()]
    for line_number, line in enumerate(lines):
        for number, sentence in enumerate(sentences(line)):
            units.append(("\n" if line_number and not number else " ", sentence))

    def body(chosen: list[tuple[str, str]]) -> str:
        middle = "".join(sep + sentence for sep, sentence in chosen).strip()
        return "\n".join(line for line in (head, middle, tail) if line)

    chosen: list[tuple[str, str]] = []
    for unit in units:
        if _fits(body([*chosen, unit]), budget):
            chosen.append(unit)
            continue
        if not chosen:
            words = unit[1].split(" ")
            while words and not _fits(body([("", " ".join(words) + "...")]), budget):
                words.pop()
            if words:
                chosen.append(("", " ".join(words) + "..."))
        break
    return body(chosen)
