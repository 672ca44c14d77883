"""A Translator's day in the admin, readable history, and one row per place in Guides."""

import datetime

import pytest

from assistant.content.selectors import translation_states
from assistant.content.services import (
    content_new_draft,
    content_publish,
    content_save,
    content_submit,
)
from assistant.models import Guide
from tests.factories import add_source, place, user_with_roles

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    return (
        user_with_roles("Editor", username="editor"),
        user_with_roles("Reviewer", username="rita"),
        user_with_roles("Translator", username="tomas", languages=("es",)),
    )


def published_guide(editor, reviewer, **fields) -> Guide:
    guide = content_save(
        obj=Guide(
            place=place("NY", "Nassau County"),
            meaning_here_en="Two agencies here work with ICE.",
            last_verified_on=datetime.date(2026, 11, 1),
            **fields,
        ),
        user=editor,
    )
    add_source(guide)
    content_submit(obj=guide, user=editor)
    return content_publish(obj=guide, user=reviewer)


def test_the_guide_form_shows_only_the_languages_an_organizer_works_in(client, admin_login, people):
    editor, _reviewer, translator = people
    guide = content_save(obj=Guide(place=place("NY", "Nassau County")), user=editor)
    admin_login(client, editor)
    page = client.get(f"/admin/assistant/guide/{guide.pk}/change/").content.decode()
    assert 'name="meaning_here_en"' in page
    assert "meaning_here_es" not in page and "meaning_here_fr" not in page
    admin_login(client, translator)
    page = client.get(f"/admin/assistant/guide/{guide.pk}/change/").content.decode()
    assert 'name="meaning_here_es"' in page and 'name="meaning_here_en"' not in page
    assert "meaning_here_fr" not in page and "meaning_here_ko" not in page


def test_a_translator_approves_and_publishes_a_translation_from_the_edit_page(
    client, admin_login, people
):
    editor, reviewer, translator = people
    guide = published_guide(editor, reviewer)
    admin_login(client, translator)
    page = client.get(f"/admin/assistant/guide/{guide.pk}/change/").content.decode()
    assert "Start a new draft" in page
    client.post(f"/admin/assistant/guide/{guide.pk}/workflow/new_draft/")
    new = Guide.objects.get(replaces=guide)
    response = client.post(
        f"/admin/assistant/guide/{new.pk}/change/",
        {
            "meaning_here_es": "Dos agencias aquí trabajan con ICE.",
            "sources-TOTAL_FORMS": "0",
            "sources-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    page = client.get(f"/admin/assistant/guide/{new.pk}/change/").content.decode()
    assert "Approve and publish the translation (English unchanged)" in page
    assert "Approve the Spanish translation" in page
    response = client.post(
        f"/admin/assistant/guide/{new.pk}/workflow/publish_translation/", follow=True
    )
    new.refresh_from_db()
    guide.refresh_from_db()
    assert new.status == Guide.Status.PUBLISHED and guide.status == Guide.Status.RETIRED
    assert new.meaning_here_en == "Two agencies here work with ICE."
    assert translation_states(new)["es"] == "reviewed"


def test_a_translation_publish_is_refused_when_the_english_changed(people):
    from assistant.content.services import ContentRefused, content_publish_translation

    editor, reviewer, translator = people
    guide = published_guide(editor, reviewer)
    draft = content_new_draft(obj=guide, user=editor)
    draft.meaning_here_en = "Changed English."
    content_save(obj=draft, user=editor)
    with pytest.raises(ContentRefused, match="a Reviewer must publish it"):
        content_publish_translation(obj=draft, user=translator)


def test_the_history_reads_in_words(client, admin_login, people):
    editor, reviewer, _translator = people
    guide = published_guide(editor, reviewer)
    draft = content_new_draft(obj=guide, user=editor)
    draft.meaning_here_en = "Two agencies here work with ICE. Ask for an interpreter."
    content_save(obj=draft, user=editor)
    root = user_with_roles(username="olga", is_superuser=True)
    admin_login(client, root)
    page = client.get(f"/admin/assistant/guide/{guide.pk}/history/").content.decode()
    for raw in ("Deleted user", "pk=None", "in_review", "chars]", "None"):
        assert raw not in page, raw
    assert "in review" in page and "rita" in page and "ago" in page
    assert "Status" in page and "published" in page
    page = client.get(f"/admin/assistant/guide/{draft.pk}/change/").content.decode()
    assert "<ins>Ask for an interpreter.</ins>" in page
    assert "@@" not in page and "+++" not in page


def test_guides_list_one_row_per_place_with_its_versions_inside(client, admin_login, people):
    editor, reviewer, _translator = people
    guide = published_guide(editor, reviewer)
    draft = content_new_draft(obj=guide, user=editor)
    admin_login(client, editor)
    response = client.get("/admin/assistant/guide/")
    assert [g.pk for g in response.context["cl"].result_list] == [guide.pk]
    page = response.content.decode()
    assert f"/admin/assistant/guide/{draft.pk}/change/" in page
    page = client.get(f"/admin/assistant/guide/{guide.pk}/change/").content.decode()
    assert f"/admin/assistant/guide/{draft.pk}/change/" in page
    every = client.get("/admin/assistant/guide/?versions=all")
    assert len(every.context["cl"].result_list) == 2
