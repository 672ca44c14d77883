"""``manage.py load_demo``: real agencies as ICE spells them, demo labels, idempotence."""

import datetime
from pathlib import Path

import openpyxl
import pytest
from django.apps import apps
from django.core.management import call_command

from assistant.content.selectors import (
    guide_for_place,
    policy_notes_for_place,
    translation_state,
)
from assistant.models import Agency, Guide, PolicyNote
from assistant.places.selectors import place_answer
from tests.factories import place

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ice-287g"
ICE_LIST = FIXTURES / "participatingAgencies05162025am.xlsx"


def row_counts() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_app_config("assistant").get_models()
    }


def test_load_demo_twice_changes_nothing(capsys):
    call_command("load_demo")
    first = row_counts()
    snapshot = list(Guide.objects.order_by("pk").values())
    call_command("load_demo")
    assert row_counts() == first
    assert list(Guide.objects.order_by("pk").values()) == snapshot
    assert "nothing changed" in capsys.readouterr().out
    assert first["assistant.Guide"] == 5


def test_demo_answers_for_nassau_come_from_the_agreements_ice_lists():
    call_command("load_demo")
    answer = place_answer(place=place("NY", "Nassau County"))
    assert answer.models == ["Task Force Model", "Warrant Service Officer"]
    assert {(f.agency_name, f.signed_on) for f in answer.active} == {
        ("Nassau County Police Department", datetime.date(2025, 3, 10)),
        ("Nassau County Sheriff's Office", datetime.date(2025, 2, 28)),
    }


def test_demo_agencies_are_spelled_as_in_ices_list_so_the_import_matches_them():
    call_command("load_demo")
    sheet = openpyxl.load_workbook(ICE_LIST, read_only=True).active
    ice_names = {
        (str(row[0]).strip(), str(row[1]).strip())
        for row in sheet.iter_rows(min_row=2, values_only=True)
        if row[1]
    }
    states = {"NY": "NEW YORK", "FL": "FLORIDA"}
    demo_agencies = Agency.objects.exclude(ice_name="")
    assert demo_agencies.count() == 4
    for agency in demo_agencies:
        assert (states[agency.state.abbreviation], agency.ice_name) in ice_names


def test_demo_content_says_it_is_a_demo_in_english_and_spanish_and_is_unreviewed():
    call_command("load_demo")
    for language, words in [("en", "demo content"), ("es", "contenido de demostración")]:
        shown = guide_for_place(place=place("NY", "Nassau County"), language=language)
        assert shown.is_demo
        first = shown.sections[0].shown
        assert words in first.text and first.language == language
        assert shown.last_verified_on and shown.sources
    spanish = guide_for_place(place=place("NY", "Nassau County"), language="es")
    assert not spanish.sections[0].shown.reviewed
    for guide in Guide.objects.all():
        assert translation_state(guide, "es") == "unreviewed"
        assert translation_state(guide, "ht") == "missing"


def test_demo_policy_notes_govern_their_places():
    call_command("load_demo")
    keys = {
        n.key for n in policy_notes_for_place(place=place("FL", "Miami-Dade County"), language="en")
    }
    assert keys == {"fl-908-11"}
    queens = {
        n.key for n in policy_notes_for_place(place=place("NY", "Queens County"), language="en")
    }
    assert queens == {"nyc-sanctuary-laws", "nyc-ice-rikers"}
    hartford = guide_for_place(place=place("CT", "Hartford"), language="en")
    assert hartford is not None
    assert {
        n.key for n in policy_notes_for_place(place=place("CT", "Hartford"), language="en")
    } == {"ct-trust-act"}
    assert PolicyNote.objects.filter(status="published").count() == 5
