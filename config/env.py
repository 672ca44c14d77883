"""Strict readers for settings that come from the environment.

django-environ parses URLs well, but its booleans read any unknown word as False; for
settings that guard privacy a typo must stop start-up instead, so booleans are parsed here.
"""

import json
import os
import re

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}


def env_bool(name: str, default: bool) -> bool:
    """Return the boolean in ``name``; raise ImproperlyConfigured for anything unclear."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name} must be one of true/false/1/0/yes/no/on/off, not {raw!r}.")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    """Return the whole number in ``name``; raise ImproperlyConfigured if it is not one."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}.")
    return value


def env_required(name: str, *, debug: bool, development_default: str) -> str:
    """Return ``name``; in production (DEBUG off) a missing value stops start-up."""
    raw = os.environ.get(name, "").strip()
    if raw:
        return raw
    if debug:
        return development_default
    raise ImproperlyConfigured(
        f"{name} is not set. It is required when DEBUG is off; see the settings table in README.md."
    )


def env_list(name: str, default: list[str]) -> list[str]:
    """Return a comma-separated list from ``name``, without blanks."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_float(name: str, default: float, *, minimum: float = 0.0) -> float:
    """Return the number in ``name``; raise ImproperlyConfigured if it is not one."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}.") from None
    if not value >= minimum:  # also refuses nan
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}.")
    return value


def env_rates(name: str) -> dict[str, float]:
    """Return ``{sender: rate}`` from ``name`` written as ``+15551234567=1,MG…=30``."""
    raw = os.environ.get(name, "")
    rates = {}
    for item in raw.split(","):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        try:
            rate = float(value)
        except ValueError:
            rate = -1.0
        if not sep or not key.strip() or not rate >= 0:
            raise ImproperlyConfigured(
                f"{name} must look like +15551234567=1,MGxxxx=30 (sender=segments per "
                f"second), not {raw!r}."
            )
        rates[key.strip()] = rate
    return rates


# The names an alert template's variables may take, in the order the template numbers them.
WHATSAPP_TEMPLATE_VARIABLES = {"place", "text", "url"}


def env_whatsapp_templates(name: str) -> dict[str, dict]:
    """Return ``{language: {"content_sid": "HX…", "variables": [...]}}`` from JSON in ``name``.

    Each variable names what fills the template's {{1}}, {{2}} … in order: ``place`` (the
    place's name), ``text`` (the alert's text in that language) or ``url`` (the place's page).
    """
    raw = os.environ.get(name, "").strip()
    if not raw:
        return {}
    try:
        templates = json.loads(raw)
    except ValueError:
        templates = None
    problem = f'{name} must be JSON like {{"es": {{"content_sid": "HX…", "variables": ["text"]}}}}'
    if not isinstance(templates, dict):
        raise ImproperlyConfigured(f"{problem}.")
    for language, template in templates.items():
        sid = template.get("content_sid", "") if isinstance(template, dict) else ""
        variables = template.get("variables", []) if isinstance(template, dict) else None
        if not re.fullmatch(r"HX[0-9a-fA-F]{32}", sid or ""):
            raise ImproperlyConfigured(f"{problem}: the content_sid for {language!r} is not HX….")
        if not isinstance(variables, list) or not set(variables) <= WHATSAPP_TEMPLATE_VARIABLES:
            raise ImproperlyConfigured(
                f"{problem}: the variables for {language!r} must be a list of "
                f"{sorted(WHATSAPP_TEMPLATE_VARIABLES)}."
            )
    return templates
