"""Every interface catalog is complete, and each committed .mo says what its .po says."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.utils.translation import to_locale

from tests.support.services import require_service

BASE_DIR = Path(settings.BASE_DIR)
LOCALE = BASE_DIR / "locale"
LANGUAGES = [code for code, _name in settings.LANGUAGES]

# %(name)s, %s, %d, %% and {name}: a translation must keep every one of them.
PERCENT_PLACEHOLDER = re.compile(r"%(?:\(\w+\))?[-#0 +]*\d*(?:\.\d+)?[sdifr%]")
BRACE_PLACEHOLDER = re.compile(r"\{\w*\}")


def _catalog(language: str) -> polib.POFile:
    path = LOCALE / to_locale(language) / "LC_MESSAGES" / "django.po"
    assert path.exists(), f"missing catalog {path}"
    return polib.pofile(str(path))


def _placeholders(entry, text: str) -> list[str]:
    found = []
    if "python-format" in entry.flags:
        found += PERCENT_PLACEHOLDER.findall(text)
    if "python-brace-format" in entry.flags:
        found += BRACE_PLACEHOLDER.findall(text)
    return sorted(found)


def _translations(entry) -> list[str]:
    if entry.msgid_plural:
        return [entry.msgstr_plural[index] for index in sorted(entry.msgstr_plural)]
    return [entry.msgstr]


def _key(entry) -> tuple:
    return (entry.msgctxt or "", entry.msgid, entry.msgid_plural or "")


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_has_no_untranslated_fuzzy_or_obsolete_entries(language):
    po = _catalog(language)
    assert po.metadata.get("Language") == to_locale(language)
    assert len(po) > 0, "the catalog is empty"
    untranslated = [
        e.msgid for e in po if not e.obsolete and not all(t.strip() for t in _translations(e))
    ]
    fuzzy = [e.msgid for e in po if "fuzzy" in e.flags]
    obsolete = [e.msgid for e in po.obsolete_entries()]
    assert untranslated == [], f"{language}: untranslated {untranslated}"
    assert fuzzy == [], f"{language}: fuzzy {fuzzy}"
    assert obsolete == [], f"{language}: obsolete {obsolete}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_plural_entries_have_every_form_of_the_language(language):
    po = _catalog(language)
    match = re.search(r"nplurals\s*=\s*(\d+)", po.metadata.get("Plural-Forms", ""))
    assert match, f"{language}: no Plural-Forms header"
    forms = int(match.group(1))
    for entry in po:
        if entry.msgid_plural:
            assert sorted(entry.msgstr_plural) == list(range(forms)), (language, entry.msgid)


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_their_placeholders(language):
    wrong = []
    for entry in _catalog(language):
        expected = _placeholders(entry, entry.msgid)
        if entry.msgid_plural:
            # A singular form may drop a count the language does not say (e.g. "one").
            expected = _placeholders(entry, entry.msgid_plural)
        for text in _translations(entry):
            if _placeholders(entry, text) != expected:
                wrong.append((entry.msgid, text))
    assert wrong == [], f"{language}: placeholders differ in {wrong}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_machine_translations_say_so_in_the_header(language):
    po = _catalog(language)
    if language == settings.LANGUAGE_CODE:
        return
    assert "not yet reviewed by a qualified human translator" in po.header
    assert "Machine translation" in po.metadata.get("Language-Team", "")


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalog_matches_its_source(language):
    directory = LOCALE / to_locale(language) / "LC_MESSAGES"
    mo_path = directory / "django.mo"
    assert mo_path.exists(), f"{mo_path} is not committed: run compilemessages"
    po, mo = polib.pofile(str(directory / "django.po")), polib.mofile(str(mo_path))
    source = {_key(e): _translations(e) for e in po.translated_entries()}
    compiled = {_key(e): _translations(e) for e in mo if e.msgid}
    assert compiled == source, f"{mo_path} is stale: run compilemessages"


def test_makemessages_finds_no_string_missing_from_the_catalogs(tmp_path):
    """A new gettext string without a catalog entry fails here, before a resident sees English."""
    require_service(shutil.which("xgettext") is not None, "GNU gettext (xgettext) is not installed")
    # makemessages writes into the locale/ beside the sources, so run it on a copy.
    copy = tmp_path / "project"
    shutil.copytree(
        BASE_DIR,
        copy,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "node_modules", "staticfiles", "bench", "tests", "__pycache__", "*.mo"
        ),
    )
    language = to_locale(LANGUAGES[1])
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "makemessages",
            "-l",
            language,
            "--no-location",
            "-i",
            ".venv",
            "-i",
            "node_modules",
            "-i",
            "staticfiles",
        ],
        cwd=copy,
        check=True,
        capture_output=True,
    )
    extracted = polib.pofile(str(copy / "locale" / language / "LC_MESSAGES" / "django.po"))
    wanted = {_key(e) for e in extracted if not e.obsolete}
    for code in LANGUAGES:
        present = {_key(e) for e in _catalog(code) if not e.obsolete}
        missing = sorted(wanted - present)
        assert missing == [], f"{code}: run makemessages and translate {missing}"
