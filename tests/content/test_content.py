"""Translations: who may write them, their states, and the fallback residents are told about."""

import datetime

import pytest

from assistant.content.models import TranslationState
from assistant.content.selectors import (
    guide_for_place,
    help_organizations_for_place,
    policy_notes_for_place,
    translation_state,
)
from assistant.content.services import (
    ContentRefused,
    content_new_draft,
    content_publish,
    content_save,
    content_submit,
    translation_approve,
)
from assistant.models import Guide, HelpOrganization, Place, PolicyNote
from tests.factories import add_source, place, state, user_with_roles

pytestmark = pytest.mark.django_db


def publish(obj, editor, reviewer):
    content_save(obj=obj, user=editor)
    add_source(obj)
    content_submit(obj=obj, user=editor)
    return content_publish(obj=obj, user=reviewer)


def new_guide(**fields):
    return Guide(
        place=fields.pop("place", None) or place("NY", "Nassau County"),
        meaning_here_en="Two agencies here work with ICE.",
        your_rights_en="You have the right to stay silent.",
        last_verified_on=datetime.date(2026, 11, 1),
        **fields,
    )


def test_translator_edits_only_the_languages_assigned_to_them(editor, spanish_translator):
    guide = content_save(obj=new_guide(), user=editor)
    guide.your_rights_es = "Tiene derecho a guardar silencio."
    content_save(obj=guide, user=spanish_translator)
    guide.refresh_from_db()
    assert guide.your_rights_es == "Tiene derecho a guardar silencio."

    guide.your_rights_fr = "Vous avez le droit de garder le silence."
    with pytest.raises(ContentRefused, match="your rights"):
        content_save(obj=guide, user=spanish_translator)
    guide.refresh_from_db()
    assert not guide.your_rights_fr

    guide.your_rights_en = "A translator rewrites the English."
    with pytest.raises(ContentRefused):
        content_save(obj=guide, user=spanish_translator)


def test_translator_cannot_approve_a_language_not_assigned_to_them(editor, spanish_translator):
    guide = new_guide(
        your_rights_fr="Vous avez le droit de garder le silence.",
        meaning_here_fr="Deux agences ici travaillent avec ICE.",
    )
    content_save(obj=guide, user=user_with_roles(username="root", is_superuser=True))
    with pytest.raises(ContentRefused, match="not assigned to translate French"):
        translation_approve(obj=guide, language="fr", user=spanish_translator)
    assert translation_state(guide, "fr") == TranslationState.UNREVIEWED


def test_the_admin_shows_a_translator_only_their_languages_as_editable(
    client, admin_login, editor, spanish_translator
):
    guide = content_save(obj=new_guide(), user=editor)
    admin_login(client, spanish_translator)
    page = client.get(f"/admin/assistant/guide/{guide.pk}/change/").content.decode()
    assert 'name="your_rights_es"' in page
    assert 'name="your_rights_fr"' not in page
    assert 'name="your_rights_en"' not in page

    data = {
        "your_rights_es": "Tiene derecho a guardar silencio.",
        "your_rights_fr": "Texte non autorisé.",
        "sources-TOTAL_FORMS": "0",
        "sources-INITIAL_FORMS": "0",
    }
    response = client.post(f"/admin/assistant/guide/{guide.pk}/change/", data)
    assert response.status_code == 302
    guide.refresh_from_db()
    assert guide.your_rights_es == "Tiene derecho a guardar silencio."
    assert not guide.your_rights_fr
    assert guide.your_rights_en == "You have the right to stay silent."


def test_translation_states_move_from_missing_to_reviewed_to_stale(editor, spanish_translator):
    guide = content_save(obj=new_guide(), user=editor)
    assert translation_state(guide, "es") == TranslationState.MISSING

    guide.meaning_here_es = "Dos agencias aquí trabajan con ICE."
    guide.your_rights_es = "Tiene derecho a guardar silencio."
    content_save(obj=guide, user=spanish_translator)
    assert translation_state(guide, "es") == TranslationState.UNREVIEWED

    translation_approve(obj=guide, language="es", user=spanish_translator)
    assert translation_state(guide, "es") == TranslationState.REVIEWED

    guide.your_rights_en = "You have the right to stay silent and to ask for a lawyer."
    content_save(obj=guide, user=editor)
    assert translation_state(guide, "es") == TranslationState.STALE

    guide.your_rights_es = "Tiene derecho a guardar silencio y a pedir un abogado."
    content_save(obj=guide, user=spanish_translator)
    assert translation_state(guide, "es") == TranslationState.UNREVIEWED
    translation_approve(obj=guide, language="es", user=spanish_translator)
    assert translation_state(guide, "es") == TranslationState.REVIEWED


def test_a_partial_translation_is_missing_and_an_edited_one_is_unreviewed(
    editor, spanish_translator
):
    guide = new_guide(meaning_here_es="Dos agencias aquí trabajan con ICE.")
    content_save(obj=guide, user=user_with_roles(username="root", is_superuser=True))
    assert translation_state(guide, "es") == TranslationState.MISSING
    guide.your_rights_es = "Tiene derecho a guardar silencio."
    content_save(obj=guide, user=spanish_translator)
    translation_approve(obj=guide, language="es", user=spanish_translator)
    guide.your_rights_es = "Tiene derecho a callarse."
    content_save(obj=guide, user=spanish_translator)
    assert translation_state(guide, "es") == TranslationState.UNREVIEWED


def test_a_reviewed_translation_stays_reviewed_in_a_new_draft_until_its_source_changes(
    editor, reviewer, spanish_translator
):
    guide = new_guide(your_rights_es="Tiene derecho a guardar silencio.")
    guide.meaning_here_es = "Dos agencias aquí trabajan con ICE."
    content_save(obj=guide, user=user_with_roles(username="root", is_superuser=True))
    translation_approve(obj=guide, language="es", user=spanish_translator)
    add_source(guide)
    content_submit(obj=guide, user=editor)
    published = content_publish(obj=guide, user=reviewer)

    draft = content_new_draft(obj=published, user=editor)
    assert translation_state(draft, "es") == TranslationState.REVIEWED
    draft.meaning_here_en = "Two agencies here work with ICE, since 2025."
    content_save(obj=draft, user=editor)
    assert translation_state(draft, "es") == TranslationState.STALE
    assert translation_state(published, "es") == TranslationState.REVIEWED


def test_the_resident_is_told_when_text_falls_back_and_whether_it_was_reviewed(
    editor, reviewer, settings
):
    settings.CONTENT_FALLBACK_LANGUAGES = {"default": ["en"], "ht": ["fr", "en"]}
    guide = new_guide(
        your_rights_fr="Vous avez le droit de garder le silence.",
        your_rights_ht="Ou gen dwa pou w pa di anyen.",
    )
    root = user_with_roles(username="root", is_superuser=True)
    publish(guide, root, reviewer)
    translation_approve(obj=guide, language="fr", user=root)

    shown = guide_for_place(place=guide.place, language="ht")
    rights = shown.section("your_rights").shown
    assert (rights.language, rights.fell_back, rights.reviewed) == ("ht", False, False)
    meaning = shown.section("meaning_here").shown
    assert meaning.language == "en" and meaning.fell_back and meaning.reviewed
    assert meaning.fallback_reason == "missing"
    assert shown.any_fell_back and shown.any_unreviewed
    assert shown.section("visa_certification") is None  # no text in any language

    # Haitian Creole text removed: French, reviewed, comes next in the stated order.
    draft = content_new_draft(obj=guide, user=root)
    draft.your_rights_ht = ""
    content_save(obj=draft, user=root)
    content_submit(obj=draft, user=root)
    content_publish(obj=draft, user=reviewer)
    rights = guide_for_place(place=guide.place, language="ht").section("your_rights").shown
    assert (rights.text, rights.language, rights.fell_back, rights.reviewed) == (
        "Vous avez le droit de garder le silence.",
        "fr",
        True,
        True,
    )


def test_a_stale_translation_is_not_shown_and_the_resident_is_told_why(
    editor, reviewer, spanish_translator
):
    root = user_with_roles(username="root", is_superuser=True)
    guide = new_guide(your_rights_es="Tiene derecho a guardar silencio.")
    content_save(obj=guide, user=root)
    guide.your_rights_en = "You have the right to stay silent. Call this new number: 555."
    content_save(obj=guide, user=root)
    add_source(guide)
    content_submit(obj=guide, user=editor)
    content_publish(obj=guide, user=reviewer)
    rights = guide_for_place(place=guide.place, language="es").section("your_rights").shown
    assert rights.language == "en" and rights.fell_back
    assert rights.fallback_reason == "stale"
    assert "555" in rights.text


def test_a_city_without_a_guide_gets_its_countys_and_the_notes_that_govern_it(editor, reviewer):
    root = user_with_roles(username="root", is_superuser=True)
    county = place("NY", "Nassau County")
    city = Place.objects.get(kind=Place.Kind.CITY, name="Hempstead", county=county)
    publish(new_guide(place=county), root, reviewer)
    shown = guide_for_place(place=city, language="en")
    assert shown.is_county_guide and shown.guide_place == county
    assert guide_for_place(place=place("NY", "Suffolk County"), language="en") is None

    for key, governs in [("ny-law", state("NY")), ("nassau-rule", county), ("fl-law", state("FL"))]:
        note = PolicyNote(key=key, title_en=f"Title {key}", body_en=f"Body {key}")
        content_save(obj=note, user=root)
        note.places.set([governs])
        publish(note, root, reviewer)
    draft = PolicyNote(key="draft-note", title_en="Draft", body_en="Not public")
    content_save(obj=draft, user=root)
    draft.places.set([state("NY")])

    notes = policy_notes_for_place(place=city, language="es")
    assert [(n.key, n.scope) for n in notes] == [("ny-law", "state"), ("nassau-rule", "county")]
    assert notes[0].title.fell_back and notes[0].title.language == "en"

    org = HelpOrganization(key="help", name="Help Line", phone="311", languages_spoken="en,es")
    org.description_en = "Free help."
    content_save(obj=org, user=root)
    org.places.set([county])
    publish(org, root, reviewer)
    orgs = help_organizations_for_place(place=city, language="es")
    assert [(o.name, o.phone, o.speaks_requested_language) for o in orgs] == [
        ("Help Line", "311", True)
    ]
    assert help_organizations_for_place(place=place("NY", "Suffolk County"), language="es") == []
