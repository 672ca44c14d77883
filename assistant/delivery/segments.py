"""How many SMS segments a text costs, and in which encoding.

A text is sent in GSM-7 when every character is in the GSM 03.38 basic set or its extension
table (extension characters take two septets); otherwise the whole message is UCS-2. A single
stray character (a curly quote, a non-breaking space) turns a 160-character message into a
70-character one, so one reply can cost three times as much for nothing.
"""

import math
from dataclasses import dataclass

from assistant.vocabulary import SMS_SEGMENT_CHARACTERS

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = "^{}\\[~]|€\f"
_GSM7_BASIC_SET = frozenset(GSM7_BASIC) - {"\x1b"}
_GSM7_EXTENSION_SET = frozenset(GSM7_EXTENSION)

GSM7 = "GSM-7"
UCS2 = "UCS-2"


@dataclass(frozen=True)
class SegmentCount:
    """The encoding a text needs and how many segments it costs."""

    encoding: str
    units: int
    segments: int


def is_gsm7(text: str) -> bool:
    """Return True when every character of ``text`` can be sent in GSM-7."""
    return all(ch in _GSM7_BASIC_SET or ch in _GSM7_EXTENSION_SET for ch in text)


def count_segments(text: str) -> SegmentCount:
    """Return the encoding and number of segments Twilio will bill for ``text``."""
    if is_gsm7(text):
        units = sum(2 if ch in _GSM7_EXTENSION_SET else 1 for ch in text)
        single, multi = SMS_SEGMENT_CHARACTERS[GSM7]
        encoding = GSM7
    else:
        # UCS-2 counts UTF-16 code units: characters outside the BMP (emoji) take two.
        units = len(text.encode("utf-16-le")) // 2
        single, multi = SMS_SEGMENT_CHARACTERS[UCS2]
        encoding = UCS2
    if units <= single:
        segments = 1 if units else 0
    else:
        segments = math.ceil(units / multi)
    return SegmentCount(encoding=encoding, units=units, segments=segments)
