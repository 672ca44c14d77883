"""The vetting workflow: draft → in review → published, who may do what, and history."""

import datetime

import pytest

from assistant.content.publication import public_content_version
from assistant.content.selectors import guide_for_place, history_fields
from assistant.content.services import (
    ContentRefused,
    content_new_draft,
    content_publish,
    content_save,
    content_submit,
)
from assistant.models import Guide
from tests.factories import add_source, place, user_with_roles

pytestmark = pytest.mark.django_db

Status = Guide.Status


def write_draft(user, **fields) -> Guide:
    guide = Guide(
        place=fields.pop("place", None) or place("NY", "Nassau County"),
        meaning_here_en=fields.pop("meaning_here_en", "Two agencies here work with ICE."),
        your_rights_en="You have the right to stay silent.",
        last_verified_on=fields.pop("last_verified_on", datetime.date(2026, 11, 1)),
        **fields,
    )
    return content_save(obj=guide, user=user)


@pytest.fixture
def second_reviewer():
    return user_with_roles("Reviewer", username="second-reviewer")


def published_guide(editor, reviewer) -> Guide:
    guide = write_draft(editor)
    add_source(guide)
    content_submit(obj=guide, user=editor)
    return content_publish(obj=guide, user=reviewer)


def test_editor_cannot_publish(editor):
    guide = write_draft(editor)
    add_source(guide)
    content_submit(obj=guide, user=editor)
    with pytest.raises(ContentRefused, match="Only a Reviewer can publish"):
        content_publish(obj=guide, user=editor)
    guide.refresh_from_db()
    assert guide.status == Status.IN_REVIEW
    assert guide_for_place(place=guide.place, language="en") is None


def test_reviewer_cannot_approve_their_own_change(editor, reviewer, second_reviewer):
    guide = write_draft(editor)
    add_source(guide)
    guide.meaning_here_en = "Reviewer's own wording."
    content_save(obj=guide, user=reviewer)
    content_submit(obj=guide, user=editor)
    with pytest.raises(ContentRefused, match="another Reviewer must approve it"):
        content_publish(obj=guide, user=reviewer)
    guide.refresh_from_db()
    assert guide.status == Status.IN_REVIEW

    content_publish(obj=guide, user=second_reviewer)
    guide.refresh_from_db()
    assert guide.status == Status.PUBLISHED
    assert guide.published_by == second_reviewer


def test_the_public_never_sees_a_draft_or_a_version_in_review(editor, reviewer):
    guide = write_draft(editor)
    add_source(guide)
    assert guide_for_place(place=guide.place, language="en") is None
    content_submit(obj=guide, user=editor)
    assert guide_for_place(place=guide.place, language="en") is None
    content_publish(obj=guide, user=reviewer)
    shown = guide_for_place(place=guide.place, language="en")
    assert shown.section("meaning_here").shown.text == "Two agencies here work with ICE."


def test_editing_published_content_keeps_the_published_version_public_until_approved(
    editor, reviewer, django_capture_on_commit_callbacks
):
    published = published_guide(editor, reviewer)
    draft = content_new_draft(obj=published, user=editor)
    assert draft.pk != published.pk and draft.status == Status.DRAFT
    assert draft.sources.count() == 1  # the sources come along
    draft.meaning_here_en = "New wording, not yet approved."
    content_save(obj=draft, user=editor)

    shown = guide_for_place(place=published.place, language="en")
    assert shown.section("meaning_here").shown.text == "Two agencies here work with ICE."

    content_submit(obj=draft, user=editor)
    before = public_content_version()
    with django_capture_on_commit_callbacks(execute=True):
        content_publish(obj=draft, user=reviewer)
    assert public_content_version() == before + 1
    shown = guide_for_place(place=published.place, language="en")
    assert shown.section("meaning_here").shown.text == "New wording, not yet approved."
    published.refresh_from_db()
    assert published.status == Status.RETIRED


def test_a_published_version_cannot_be_changed_in_place(editor, reviewer):
    published = published_guide(editor, reviewer)
    published.meaning_here_en = "Sneaky edit."
    with pytest.raises(ContentRefused, match="Start a new draft"):
        content_save(obj=published, user=editor)
    published.refresh_from_db()
    assert published.meaning_here_en == "Two agencies here work with ICE."


def test_publishing_is_refused_without_a_source_and_nothing_published_is_lost(editor, reviewer):
    published = published_guide(editor, reviewer)
    draft = content_new_draft(obj=published, user=editor)
    draft.sources.all().delete()
    content_submit(obj=draft, user=editor)
    with pytest.raises(ContentRefused, match="Add at least one source"):
        content_publish(obj=draft, user=reviewer)
    published.refresh_from_db()
    assert published.status == Status.PUBLISHED
    assert guide_for_place(place=published.place, language="en") is not None


def test_publishing_is_refused_without_a_verified_date(editor, reviewer):
    guide = write_draft(editor, last_verified_on=None)
    add_source(guide)
    content_submit(obj=guide, user=editor)
    with pytest.raises(ContentRefused, match="last verified on"):
        content_publish(obj=guide, user=reviewer)
    guide.refresh_from_db()
    assert guide.status == Status.IN_REVIEW


def test_a_section_without_its_own_source_blocks_publishing(editor, reviewer):
    guide = write_draft(editor)
    add_source(guide, section="meaning_here")
    content_submit(obj=guide, user=editor)
    with pytest.raises(ContentRefused, match="your rights"):
        content_publish(obj=guide, user=reviewer)


def test_publishing_sets_the_review_due_date_from_the_verified_date(editor, reviewer, settings):
    settings.CONTENT_REVIEW_INTERVAL_DAYS = 30
    guide = published_guide(editor, reviewer)
    assert guide.review_due_on == datetime.date(2026, 12, 1)


def test_every_change_is_kept_in_history_with_who_made_it(editor, reviewer):
    guide = write_draft(editor)
    guide.meaning_here_en = "Second wording."
    content_save(obj=guide, user=editor)
    add_source(guide)
    content_submit(obj=guide, user=editor)
    content_publish(obj=guide, user=reviewer)
    history = list(guide.history.order_by("history_date"))
    assert [h.status for h in history] == ["draft", "draft", "in_review", "published"]
    assert [h.history_user for h in history] == [editor, editor, editor, reviewer]
    delta = history[1].diff_against(history[0], included_fields=history_fields(Guide))
    assert delta.changed_fields == ["meaning_here_en"]
    assert history[0].meaning_here_en == "Two agencies here work with ICE."


def test_the_admin_history_page_compares_versions_in_every_language(client, admin_login, editor):
    guide = write_draft(editor)
    guide.your_rights_es = "Tiene derecho a guardar silencio."
    superuser = user_with_roles(username="boss", is_superuser=True)
    content_save(obj=guide, user=superuser)
    admin_login(client, superuser)
    response = client.get(f"/admin/assistant/guide/{guide.pk}/history/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Tiene derecho a guardar silencio." in page
    assert "editor" in page and "boss" in page
