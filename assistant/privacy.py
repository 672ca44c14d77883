"""Keyed hashing and encryption of phone numbers (see "Privacy rules" in DESIGN.md).

A phone number is never stored in plain text. Look-ups use ``phone_hash`` (an HMAC keyed
with PHONE_HASH_KEY, so a seized database cannot be reversed by hashing every number); the
few numbers that must be kept to send later are stored with ``encrypt``.
"""

import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

WHATSAPP_PREFIX = "whatsapp:"
ASCII_DIGITS = frozenset("0123456789")


def is_whatsapp(address: str) -> bool:
    """Return True when ``address`` is a WhatsApp address (``whatsapp:+1…``), not a number."""
    return (address or "").strip().lower().startswith(WHATSAPP_PREFIX)


def normalize_phone(number: str) -> str:
    """Return ``number`` as digits with a leading +, the way Twilio writes E.164 numbers.

    A WhatsApp address keeps its ``whatsapp:`` prefix, so its keyed hash differs from the
    same number's by SMS: a resident on both channels is two residents unless they say so.
    Spaces, dashes and brackets are dropped; a number written with other digits than ASCII
    ("+1٥١٦…", "+1５１６…") is no number (""), never another one made of its ASCII digits.
    """
    number = (number or "").strip()
    if any(ch.isdigit() and not ch.isascii() for ch in number):
        return ""
    digits = "".join(ch for ch in number if ch in ASCII_DIGITS)
    if not digits:
        return ""
    return f"{WHATSAPP_PREFIX}+{digits}" if is_whatsapp(number) else f"+{digits}"


def phone_hash(number: str, *, key: str | None = None) -> str:
    """Return the keyed HMAC-SHA256 of a phone number, as 64 hex characters."""
    secret = (key or settings.PHONE_HASH_KEY).encode()
    return hmac.new(secret, normalize_phone(number).encode(), hashlib.sha256).hexdigest()


def _fernet() -> Fernet:
    return _fernet_for(settings.FIELD_ENCRYPTION_KEY)


@lru_cache(maxsize=4)
def _fernet_for(key: str) -> Fernet:
    # One per key, not one per value: a text's webhook encrypts twice, its worker decrypts
    # twice. Keyed by the setting, so a changed key (a test's) takes effect at once.
    return Fernet(key.encode())


def encrypt(text: str) -> str:
    """Return ``text`` encrypted with FIELD_ENCRYPTION_KEY (a Fernet token)."""
    return _fernet().encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    """Return the plain text of a token made by ``encrypt``; raise ValueError if it is not one."""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ValueError("The value was not encrypted with FIELD_ENCRYPTION_KEY.") from None
