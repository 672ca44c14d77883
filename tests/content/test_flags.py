"""Review flags organizers can get through: true counts, filters, notes, closed by the work."""

import datetime

import pytest
from django.urls import reverse

from assistant.content.models import ReviewFlag
from assistant.content.review import review_flag_raise
from assistant.content.services import content_publish, content_save, content_submit
from assistant.models import Guide, Place
from tests.factories import add_source, place, state, user_with_roles

pytestmark = pytest.mark.django_db

LIST = "/admin/assistant/reviewflag/"


@pytest.fixture
def editor():
    return user_with_roles("Editor", username="editor")


@pytest.fixture
def many_flags():
    florida = list(Place.objects.filter(state=state("FL")).order_by("pk")[:50])
    texas = list(Place.objects.filter(state=state("TX")).order_by("pk")[:100])
    assert (len(florida), len(texas)) == (50, 100)
    for county in florida + texas:
        review_flag_raise(place=county, reason=ReviewFlag.Reason.ANSWER_CHANGED)
    review_flag_raise(place=texas[0], reason=ReviewFlag.Reason.REVIEW_DUE)
    return florida, texas


def test_the_start_page_counts_every_open_flag_and_links_to_them_all(
    client, admin_login, editor, many_flags
):
    admin_login(client, editor)
    page = client.get("/admin/").content.decode()
    assert "Review flags (from the 287(g) import) (151)" in page
    assert "287(g) answer changed: 150" in page and "review is due: 1" in page
    assert "See all 151 open flags, by U.S. state and place" in page
    listing = client.get(LIST + "?open=yes").content.decode()
    assert "151 open flags." in listing
    assert "Florida (50)" in listing and "Texas (101)" in listing


def test_the_list_filters_by_state_reason_and_age(client, admin_login, editor, many_flags):
    admin_login(client, editor)
    texas = state("TX")
    response = client.get(LIST, {"state": texas.pk, "reason__exact": "review_due"})
    assert response.context["cl"].result_count == 1
    response = client.get(LIST, {"state": texas.pk})
    assert response.context["cl"].result_count == 101
    response = client.get(LIST, {"age": "older"})
    assert response.context["cl"].result_count == 0
    response = client.get(LIST, {"age": "week"})
    assert response.context["cl"].result_count == 151


def test_bulk_dealt_with_only_for_a_filtered_selection_and_with_a_note(
    client, admin_login, editor, many_flags
):
    admin_login(client, editor)
    everything = list(ReviewFlag.objects.values_list("pk", flat=True))
    response = client.post(
        LIST,
        {"action": "resolve", "_selected_action": everything, "select_across": "1", "note": "ok"},
        follow=True,
    )
    assert "Filter the list first" in response.content.decode()
    assert ReviewFlag.objects.filter(resolved_at__isnull=True).count() == 151

    texas = state("TX")
    url = f"{LIST}?state={texas.pk}"
    response = client.post(
        url,
        {"action": "resolve", "_selected_action": everything, "select_across": "1"},
        follow=True,
    )
    assert "Say in a few words" in response.content.decode()
    response = client.post(
        url,
        {
            "action": "resolve",
            "_selected_action": everything,
            "select_across": "1",
            "note": "Texas list checked by hand",
        },
        follow=True,
    )
    assert "101 flags marked as dealt with." in response.content.decode()
    assert ReviewFlag.objects.filter(resolved_at__isnull=True).count() == 50
    closed = ReviewFlag.objects.filter(resolved_at__isnull=False)
    assert set(closed.values_list("resolution_note", flat=True)) == {"Texas list checked by hand"}


def test_a_flag_is_dealt_with_from_its_own_page(client, admin_login, editor):
    flag = review_flag_raise(place=place("NY", "Nassau County"), reason="agreements_changed")
    admin_login(client, editor)
    page = client.get(reverse("admin:assistant_reviewflag_change", args=[flag.pk])).content.decode()
    assert "Mark as dealt with" in page and "Confirm the new answer" not in page
    client.post(
        reverse("admin:assistant_reviewflag_dealt_with", args=[flag.pk]),
        {"note": "Called the sheriff's office"},
    )
    flag.refresh_from_db()
    assert flag.resolved_by == editor and flag.resolution_note == "Called the sheriff's office"


def test_confirming_the_new_answer_closes_its_flag(client, admin_login, editor):
    flag = review_flag_raise(place=place("NY", "Nassau County"), reason="answer_changed")
    admin_login(client, editor)
    client.post(reverse("admin:assistant_reviewflag_dealt_with", args=[flag.pk]), {"confirm": "1"})
    flag.refresh_from_db()
    assert flag.resolved_at and flag.resolution_note.startswith("New answer confirmed")


def test_publishing_the_places_guide_closes_its_flags(editor):
    nassau = place("NY", "Nassau County")
    changed = review_flag_raise(place=nassau, reason="answer_changed")
    other = review_flag_raise(place=place("NY", "Suffolk County"), reason="answer_changed")
    guide = content_save(
        obj=Guide(place=nassau, meaning_here_en="x", last_verified_on=datetime.date(2026, 11, 1)),
        user=editor,
    )
    add_source(guide)
    content_submit(obj=guide, user=editor)
    content_publish(obj=guide, user=user_with_roles("Reviewer", username="rita"))
    changed.refresh_from_db()
    other.refresh_from_db()
    assert changed.resolved_at is not None and "published" in changed.resolution_note
    assert other.resolved_at is None
