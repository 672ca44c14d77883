"""Every interface catalog is complete, and each committed .mo says what its .po says."""

import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils.translation import to_locale

LOCALE = Path(settings.BASE_DIR) / "locale"
LANGUAGES = [code for code, _name in settings.LANGUAGES]


def _unquote(text: str) -> str:
    return text.encode("latin-1", "backslashreplace").decode("unicode_escape")


def parse_po(path: Path) -> list[dict]:
    """Return the entries of a .po file: msgid, msgstr and flags (no plural forms used)."""
    entries, current, field = [], None, None
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            if current is not None:
                entries.append(current)
            current, field = None, None
            continue
        if current is None:
            current = {"msgid": "", "msgstr": "", "flags": set(), "obsolete": False}
        if line.startswith("#~"):
            current["obsolete"] = True
        elif line.startswith("#,"):
            current["flags"].update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith(("msgid_plural", "msgstr[")):
            raise AssertionError(f"{path}: plural forms are not expected here")
        elif line.startswith("msgid "):
            field = "msgid"
            current[field] = _unquote(line[6:].strip()[1:-1])
        elif line.startswith("msgstr "):
            field = "msgstr"
            current[field] = _unquote(line[7:].strip()[1:-1])
        elif line.startswith('"'):
            current[field] += _unquote(line.strip()[1:-1])
    return entries


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_has_no_untranslated_or_fuzzy_entries(language):
    po = LOCALE / to_locale(language) / "LC_MESSAGES" / "django.po"
    assert po.exists(), f"missing catalog {po}"
    entries = [e for e in parse_po(po) if not e["obsolete"]]
    header, messages = entries[0], entries[1:]
    assert header["msgid"] == "" and "fuzzy" not in header["flags"]
    assert messages, "the catalog is empty"
    untranslated = [e["msgid"] for e in messages if not e["msgstr"].strip()]
    fuzzy = [e["msgid"] for e in messages if "fuzzy" in e["flags"]]
    assert untranslated == [], f"{language}: untranslated {untranslated}"
    assert fuzzy == [], f"{language}: fuzzy {fuzzy}"
    for entry in messages:
        placeholders = sorted(re.findall(r"%\(\w+\)[sd]", entry["msgid"]))
        assert sorted(re.findall(r"%\(\w+\)[sd]", entry["msgstr"])) == placeholders, entry


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalog_matches_its_source(language):
    directory = LOCALE / to_locale(language) / "LC_MESSAGES"
    mo = directory / "django.mo"
    assert mo.exists(), f"{mo} is not committed: run compilemessages"
    with mo.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    catalog = compiled._catalog  # the parsed .mo: msgid -> msgstr
    messages = {e["msgid"]: e["msgstr"] for e in parse_po(directory / "django.po")[1:]}
    messages = {k: v for k, v in messages.items() if k}
    compiled_messages = {k: v for k, v in catalog.items() if k}
    assert compiled_messages == messages, f"{mo} is stale: run compilemessages"
