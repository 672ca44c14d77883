"""The organizers' admin: start page, workflow actions and their refusals, filters, roles."""

import datetime

import pytest
from django.contrib.auth.models import Group

from assistant.content.review import review_flag_raise
from assistant.content.services import content_publish, content_save, content_submit
from assistant.models import Guide
from tests.factories import AgencyFactory, AgreementFactory, add_source, place, user_with_roles

pytestmark = pytest.mark.django_db


def draft(user, **fields) -> Guide:
    guide = Guide(
        place=fields.pop("place", None) or place("NY", "Nassau County"),
        meaning_here_en="Two agencies here work with ICE.",
        last_verified_on=fields.pop("last_verified_on", datetime.date(2026, 11, 1)),
        **fields,
    )
    return content_save(obj=guide, user=user)


def run_action(client, action: str, guide: Guide):
    return client.post(
        "/admin/assistant/guide/",
        {"action": action, "_selected_action": [guide.pk]},
        follow=True,
    )


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_the_roles_exist_as_groups_with_the_right_powers():
    assert set(Group.objects.values_list("name", flat=True)) >= {
        "Editor",
        "Reviewer",
        "Translator",
    }
    editor = user_with_roles("Editor", username="e")
    reviewer = user_with_roles("Reviewer", username="r")
    translator = user_with_roles("Translator", username="t")
    assert not editor.has_perm("assistant.publish_guide")
    assert reviewer.has_perm("assistant.publish_guide")
    assert not translator.has_perm("assistant.add_guide")
    assert not editor.has_perm("assistant.change_agreement")


def test_an_editor_who_tries_to_publish_sees_why_in_the_admin(client, admin_login, editor):
    guide = draft(editor)
    add_source(guide)
    admin_login(client, editor)
    response = run_action(client, "submit_for_review", guide)
    assert any("sent for review" in m for m in messages_of(response))
    response = run_action(client, "publish", guide)
    assert any("Only a Reviewer can publish" in m for m in messages_of(response))
    guide.refresh_from_db()
    assert guide.status == Guide.Status.IN_REVIEW


def test_a_reviewer_publishing_their_own_change_is_told_so(client, admin_login, editor, reviewer):
    guide = draft(reviewer)
    add_source(guide)
    content_submit(obj=guide, user=reviewer)
    admin_login(client, reviewer)
    response = run_action(client, "publish", guide)
    assert any("another Reviewer must approve it" in m for m in messages_of(response))
    guide.refresh_from_db()
    assert guide.status == Guide.Status.IN_REVIEW


def test_publishing_without_a_source_is_refused_with_a_message(
    client, admin_login, editor, reviewer
):
    guide = draft(editor, last_verified_on=None)
    content_submit(obj=guide, user=editor)
    admin_login(client, reviewer)
    response = run_action(client, "publish", guide)
    [message] = [m for m in messages_of(response) if "cannot be published" in m]
    assert "Add at least one source" in message and "last verified on" in message


def test_a_reviewer_publishes_and_a_published_guide_opens_read_only(
    client, admin_login, editor, reviewer
):
    guide = draft(editor)
    add_source(guide)
    content_submit(obj=guide, user=editor)
    admin_login(client, reviewer)
    response = run_action(client, "publish", guide)
    assert any("published" in m for m in messages_of(response))
    guide.refresh_from_db()
    assert guide.status == Guide.Status.PUBLISHED

    admin_login(client, editor)
    page = client.get(f"/admin/assistant/guide/{guide.pk}/change/")
    assert page.status_code == 200
    assert 'name="meaning_here_en"' not in page.content.decode()
    response = client.post(
        f"/admin/assistant/guide/{guide.pk}/change/", {"meaning_here_en": "Changed in place."}
    )
    assert response.status_code == 403
    guide.refresh_from_db()
    assert guide.meaning_here_en == "Two agencies here work with ICE."

    response = run_action(client, "start_new_draft", guide)
    assert any("stays public" in m for m in messages_of(response))
    assert Guide.objects.filter(replaces=guide, status=Guide.Status.DRAFT).exists()


def test_the_start_page_lists_what_needs_attention(client, admin_login, editor, reviewer):
    nassau = place("NY", "Nassau County")
    review_flag_raise(
        place=nassau, reason="answer_changed", detail="Nassau County Police Department: new"
    )
    in_review = draft(editor, place=place("NM", "Santa Fe County"))
    content_submit(obj=in_review, user=editor)
    root = user_with_roles(username="root", is_superuser=True)
    stale = draft(root, meaning_here_es="Dos agencias aquí trabajan con ICE.")
    stale.meaning_here_en = "Two agencies here work with ICE since 2025."
    content_save(obj=stale, user=root)
    add_source(stale)
    content_submit(obj=stale, user=root)
    content_publish(obj=stale, user=reviewer)

    admin_login(client, editor)
    page = client.get("/admin/").content.decode()
    assert "Needs your attention now" in page
    assert "287(g) answer changed" in page
    assert "Santa Fe County, NM (in review)" in page
    assert "Guides due for review" in page
    # Translations are a Translator's work, listed in their own languages only.
    assert "Spanish: stale" not in page
    translator = user_with_roles("Translator", username="tina", languages=("es",))
    admin_login(client, translator)
    page = client.get("/admin/").content.decode()
    assert "Spanish: stale" in page
    assert "French: missing" not in page


def test_guide_filters_find_stale_translations_and_changed_agreements(
    client, admin_login, editor, reviewer
):
    root = user_with_roles(username="root", is_superuser=True)
    nassau = draft(root, meaning_here_es="Dos agencias aquí trabajan con ICE.")
    nassau.meaning_here_en = "Changed English."
    content_save(obj=nassau, user=root)
    santa_fe = draft(root, place=place("NM", "Santa Fe County"))
    AgreementFactory(
        agency=AgencyFactory(place=place("NM", "Santa Fe County")),
        changed_on=datetime.date(2026, 11, 20),
    )
    admin_login(client, editor)

    page = client.get("/admin/assistant/guide/?translation=stale").content.decode()
    assert f"/admin/assistant/guide/{nassau.pk}/change/" in page
    assert f"/admin/assistant/guide/{santa_fe.pk}/change/" not in page

    page = client.get("/admin/assistant/guide/?agreements_changed=yes").content.decode()
    assert f"/admin/assistant/guide/{santa_fe.pk}/change/" in page
    assert f"/admin/assistant/guide/{nassau.pk}/change/" not in page

    new_mexico = place("NM", "Santa Fe County").state_id
    page = client.get(f"/admin/assistant/guide/?state={new_mexico}&q=Santa").content.decode()
    assert f"/admin/assistant/guide/{santa_fe.pk}/change/" in page


def test_a_translator_approves_only_their_language_from_the_admin(client, admin_login):
    root = user_with_roles(username="root", is_superuser=True)
    guide = draft(
        root,
        meaning_here_es="Dos agencias aquí trabajan con ICE.",
        meaning_here_fr="Deux agences ici travaillent avec ICE.",
    )
    translator = user_with_roles("Translator", username="traductora", languages=("es",))
    admin_login(client, translator)
    response = run_action(client, "approve_my_translations", guide)
    assert any("Spanish" in m and "reviewed" in m for m in messages_of(response))
    from assistant.content.selectors import translation_states

    states = translation_states(guide)
    assert states["es"] == "reviewed" and states["fr"] == "unreviewed"


def test_agreements_are_read_only_for_organizers(client, admin_login, reviewer):
    agreement = AgreementFactory()
    admin_login(client, reviewer)
    page = client.get(f"/admin/assistant/agreement/{agreement.pk}/change/")
    assert page.status_code == 200
    assert 'name="status"' not in page.content.decode()
    assert client.get("/admin/assistant/agreement/add/").status_code == 403


def test_every_organizer_page_opens(client, admin_login):
    from django.core.management import call_command

    call_command("load_demo")
    root = user_with_roles(username="root", is_superuser=True)
    admin_login(client, root)
    guide = Guide.objects.get(place=place("NY", "Nassau County"))
    nassau = place("NY", "Nassau County")
    urls = [
        "/admin/",
        "/admin/assistant/guide/",
        "/admin/assistant/guide/add/",
        f"/admin/assistant/guide/{guide.pk}/change/",
        f"/admin/assistant/guide/{guide.pk}/history/",
        "/admin/assistant/guide/?review_due=soon&status__exact=published",
        "/admin/assistant/policynote/",
        "/admin/assistant/policynote/add/",
        "/admin/assistant/helporganization/",
        "/admin/assistant/helporganization/add/",
        "/admin/assistant/place/?q=Nassau",
        f"/admin/assistant/place/{nassau.pk}/change/",
        "/admin/assistant/agency/",
        "/admin/assistant/agreement/",
        "/admin/assistant/reviewflag/",
        "/admin/assistant/translatorlanguage/add/",
        "/admin/assistant/translationrecord/",
    ]
    for url in urls:
        assert client.get(url).status_code == 200, url
    page = client.get(f"/admin/assistant/place/{nassau.pk}/change/").content.decode()
    assert "Task Force Model" in page


def test_editing_the_english_in_the_admin_makes_the_translation_stale(client, admin_login, editor):
    from assistant.content.selectors import translation_state

    root = user_with_roles(username="root", is_superuser=True)
    guide = draft(root, meaning_here_es="Dos agencias aquí trabajan con ICE.")
    translator = user_with_roles("Translator", username="traductora", languages=("es",))
    from assistant.content.services import translation_approve

    translation_approve(obj=guide, language="es", user=translator)
    admin_login(client, editor)
    response = client.post(
        f"/admin/assistant/guide/{guide.pk}/change/",
        {
            "place": guide.place_id,
            "meaning_here_en": "Two agencies here work with ICE, since 2025.",
            "emergency_number": "911",
            "last_verified_on": "2026-11-01",
            "sources-TOTAL_FORMS": "0",
            "sources-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    guide.refresh_from_db()
    assert guide.meaning_here_en == "Two agencies here work with ICE, since 2025."
    assert translation_state(guide, "es") == "stale"
    assert guide.history.first().history_user == editor


def test_a_reviewer_who_added_a_source_cannot_publish(client, admin_login, editor, reviewer):
    guide = draft(editor)
    admin_login(client, reviewer)
    response = client.post(
        f"/admin/assistant/guide/{guide.pk}/change/",
        {
            "place": guide.place_id,
            "meaning_here_en": guide.meaning_here_en,
            "emergency_number": "911",
            "last_verified_on": "2026-11-01",
            "sources-TOTAL_FORMS": "1",
            "sources-INITIAL_FORMS": "0",
            "sources-0-section": "",
            "sources-0-url": "https://www.ice.gov/identify-and-arrest/287g",
            "sources-0-title": "ICE 287(g)",
            "sources-0-accessed_on": "2026-11-27",
        },
    )
    assert response.status_code == 302
    assert guide.sources.count() == 1
    content_submit(obj=guide, user=editor)
    response = run_action(client, "publish", guide)
    assert any("another Reviewer must approve it" in m for m in messages_of(response))


def test_the_change_page_buttons_move_a_guide_through_the_workflow(
    client, admin_login, editor, reviewer
):
    guide = draft(editor)
    add_source(guide)
    admin_login(client, editor)
    page = client.get(f"/admin/assistant/guide/{guide.pk}/change/").content.decode()
    assert "Send for review" in page
    client.post(f"/admin/assistant/guide/{guide.pk}/workflow/submit/")
    response = client.post(f"/admin/assistant/guide/{guide.pk}/workflow/publish/", follow=True)
    assert any("Only a Reviewer can publish" in m for m in messages_of(response))

    admin_login(client, reviewer)
    response = client.post(f"/admin/assistant/guide/{guide.pk}/workflow/publish/", follow=True)
    assert any("published" in m for m in messages_of(response))
    guide.refresh_from_db()
    assert guide.status == Guide.Status.PUBLISHED
    page = client.get(f"/admin/assistant/guide/{guide.pk}/change/").content.decode()
    assert "Start a new draft" in page
