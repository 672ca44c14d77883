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
from assistant.models import (
    Agency,
    AgencyFact,
    Agreement,
    Guide,
    HelpOrganization,
    ImportSnapshot,
    Place,
    PolicyNote,
    Source,
    TranslationRecord,
)
from assistant.places.selectors import place_answer
from assistant.trust.selectors import agency_facts_for_place
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


def demo_rows() -> dict[str, list[dict]]:
    """Return every row the demo writes, field by field (places: only the cities it adds)."""
    rows = {
        model._meta.label: list(model.objects.order_by("pk").values())
        for model in (
            Agency,
            AgencyFact,
            Agreement,
            Guide,
            PolicyNote,
            HelpOrganization,
            Source,
            TranslationRecord,
            PolicyNote.places.through,
            HelpOrganization.places.through,
        )
    }
    rows["cities"] = list(Place.objects.filter(kind=Place.Kind.CITY).order_by("pk").values())
    return rows


def test_load_demo_twice_leaves_every_row_as_it_was():
    call_command("load_demo")
    first = demo_rows()
    call_command("load_demo")
    assert demo_rows() == first
    assert {label: len(rows) for label, rows in first.items() if label != "cities"} == {
        "assistant.Agency": 7,
        "assistant.AgencyFact": 35,
        "assistant.Agreement": 4,
        "assistant.Guide": 5,
        "assistant.PolicyNote": 5,
        "assistant.HelpOrganization": 2,
        "assistant.Source": 38,
        "assistant.TranslationRecord": 47,
        "assistant.PolicyNote_places": 15,
        "assistant.HelpOrganization_places": 7,
    }


def test_load_demo_leaves_an_organizers_edit_alone():
    call_command("load_demo")
    note = PolicyNote.objects.get(key="ct-trust-act")
    note.body_en = "Checked and rewritten by an organizer."
    note.save()
    call_command("load_demo")
    note.refresh_from_db()
    assert note.body_en == "Checked and rewritten by an organizer."
    assert PolicyNote.objects.filter(key="ct-trust-act").count() == 1


def test_demo_invents_no_agreements_on_top_of_an_imported_ice_list():
    ImportSnapshot.objects.create(
        file_name="participatingAgencies05162025am.xlsx",
        file_sha256="0" * 64,
        as_of=datetime.date(2025, 5, 16),
        as_of_source=ImportSnapshot.DateSource.FILE_NAME,
    )
    call_command("load_demo")
    assert not Agency.objects.exists()
    assert not Agreement.objects.exists()
    assert Guide.objects.count() == 5
    assert PolicyNote.objects.count() == 5
    assert HelpOrganization.objects.count() == 2


def test_every_demo_text_says_it_is_a_demo():
    call_command("load_demo")
    notices = {"en": "This is demo content", "es": "Este es contenido de demostración"}
    for language, notice in notices.items():
        for guide in Guide.objects.all():
            assert getattr(guide, f"meaning_here_{language}").startswith(notice)
        for note in PolicyNote.objects.all():
            assert getattr(note, f"body_{language}").startswith(notice)
        for org in HelpOrganization.objects.all():
            assert getattr(org, f"description_{language}").startswith(notice)
    assert all(source.url.startswith(("https://", "http://")) for source in Source.objects.all())


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


DEMO_FACT_AGENCIES = {
    ("NY", "Nassau County Police Department"),
    ("NY", "Nassau County Sheriff's Office"),
    ("FL", "Miami Dade Sheriff's Office"),
    ("FL", "Miami Dade Corrections and Rehabilitation"),
    ("NY", "New York City Police Department"),
    ("CT", "Hartford Police Department"),
    ("NM", "Santa Fe County Sheriff's Office"),
}


def test_demo_agency_facts_are_published_demo_and_cite_real_sources():
    call_command("load_demo")
    facts = AgencyFact.objects.select_related("agency__state")
    assert {(f.agency.state.abbreviation, f.agency.name) for f in facts} == DEMO_FACT_AGENCIES
    for fact in facts:
        assert fact.is_demo and fact.status == "published" and fact.published_at
        assert fact.verified_on and fact.review_due_on
        assert fact.detail_en.startswith("This is demo content")
        assert fact.detail_es.startswith("Este es contenido de demostración")
        if fact.answer != AgencyFact.Answer.UNKNOWN:
            assert fact.source_url.startswith("https://") or fact.source_url.startswith("http://")
            assert fact.source_title
        if fact.source_url:
            assert fact.source_title
    known = {
        (f.agency.name, f.topic): (
            f.answer,
            f.source_url,
            f.policy_note.key if f.policy_note else "",
        )
        for f in facts.exclude(answer=AgencyFact.Answer.UNKNOWN).select_related("policy_note")
    }
    assert known == {
        ("Hartford Police Department", "ice_limits"): (
            "yes",
            "https://www.cga.ct.gov/current/pub/chap_961.htm#sec_54-192h",
            "ct-trust-act",
        ),
        ("New York City Police Department", "ice_limits"): (
            "yes",
            "https://codelibrary.amlegal.com/codes/newyorkcity/latest/overview",
            "nyc-sanctuary-laws",
        ),
        ("New York City Police Department", "language_access"): (
            "yes",
            "https://www.nyc.gov/site/nypd/about/about-nypd/language-access.page",
            "",
        ),
        ("Miami Dade Sheriff's Office", "ice_limits"): (
            "no",
            "http://www.leg.state.fl.us/statutes/index.cfm?App_mode=Display_Statute&URL=0900-0999/0908/Sections/0908.11.html",
            "fl-908-11",
        ),
        ("Miami Dade Corrections and Rehabilitation", "ice_limits"): (
            "no",
            "http://www.leg.state.fl.us/statutes/index.cfm?App_mode=Display_Statute&URL=0900-0999/0908/Sections/0908.11.html",
            "fl-908-11",
        ),
    }


def test_demo_agency_facts_show_on_the_place_pages():
    call_command("load_demo")
    hartford = agency_facts_for_place(place=place("CT", "Hartford"), language="es")
    assert [a.agency.name for a in hartford] == ["Hartford Police Department"]
    limits = next(f for f in hartford[0].facts if f.topic == "ice_limits")
    assert limits.is_demo and not limits.stale and limits.answer == "yes"
    assert limits.policy_note_title
    assert "contenido de demostración" in limits.detail.text
    santa_fe = agency_facts_for_place(place=place("NM", "Santa Fe County"), language="en")
    assert [f.answer for f in santa_fe[0].facts] == ["unknown"] * 5


def test_demo_agency_facts_on_an_imported_list_attach_to_its_agencies_and_create_none():
    ImportSnapshot.objects.create(
        file_name="participatingAgencies05162025am.xlsx",
        file_sha256="0" * 64,
        as_of=datetime.date(2025, 5, 16),
        as_of_source=ImportSnapshot.DateSource.FILE_NAME,
    )
    nassau = place("NY", "Nassau County")
    imported = Agency.objects.create(
        name="NASSAU COUNTY POLICE DEPARTMENT",
        ice_name="NASSAU COUNTY POLICE DEPARTMENT",
        kind=Agency.Kind.POLICE,
        state=nassau.state,
        place=nassau,
    )
    call_command("load_demo")
    assert list(Agency.objects.all()) == [imported]
    assert AgencyFact.objects.filter(agency=imported, is_demo=True).count() == 5
    assert AgencyFact.objects.count() == 5
    before = list(AgencyFact.objects.order_by("pk").values())
    call_command("load_demo")
    assert list(AgencyFact.objects.order_by("pk").values()) == before


def test_demo_leaves_an_organizers_fact_alone():
    hartford = place("CT", "Hartford")
    agency = Agency.objects.create(
        name="Hartford Police Department",
        kind=Agency.Kind.POLICE,
        state=hartford.state,
        place=hartford,
    )
    own = AgencyFact.objects.create(agency=agency, topic="ice_limits", detail_en="An organizer's.")
    call_command("load_demo")
    assert Agency.objects.filter(name="Hartford Police Department").count() == 1
    assert list(AgencyFact.objects.filter(agency=agency, topic="ice_limits")) == [own]
    assert AgencyFact.objects.filter(agency=agency).count() == 5
