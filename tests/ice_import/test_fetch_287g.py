"""fetch_287g end to end: a fake ICE page on 127.0.0.1, the quality gate, held lists."""

import io
import logging

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from assistant.ice_import.fetch import FetchOptions
from assistant.ice_import.selectors import held_lists, ice_list_status
from assistant.ice_import.services import held_list_apply, held_list_reject, ice_lists_fetch
from assistant.models import (
    Agreement,
    FetchCheck,
    FetchedFile,
    HeldList,
    ImportSnapshot,
)
from tests.factories import UserFactory, place
from tests.ice_import.test_fetch import ICE_PAGE, PARTICIPATING, PENDING, ice, standard_ice
from tests.ice_import.test_import_287g import database_state
from tests.support.ice_rows import cut_to_a_fifth

pytestmark = pytest.mark.django_db
__all__ = ["ice"]  # the fixture

CUT_NAME = "participatingAgencies05202025am.xlsx"


def newer_page(ice, participating: bytes):
    html = ICE_PAGE.format(pending="pendingAgencies05152025am.xlsx").replace(
        "participatingAgencies05162025am.xlsx", CUT_NAME
    )
    url = ice.page(html)
    ice.file(f"/doclib/about/287g/{CUT_NAME}", participating)
    ice.file("/identify-and-arrest/pendingAgencies05152025am.xlsx", PENDING)
    return FetchOptions(page_url=url, timeout=2)


def test_a_new_list_is_fetched_and_applied(ice, settings):
    options = standard_ice(ice)
    settings.ICE_287G_PAGE_URL = options.page_url
    settings.ICE_FETCH_TIMEOUT_SECONDS = 2
    assert ice_list_status() is None
    call_command("fetch_287g", stdout=io.StringIO())
    snapshot = ImportSnapshot.objects.get()
    assert snapshot.file_name == "participatingAgencies05162025am.xlsx"
    assert snapshot.pending_file_name == "pendingAgencies05152025am.xlsx"
    assert Agreement.objects.filter(status=Agreement.Status.ACTIVE).count() == 571
    check = FetchCheck.objects.get()
    assert check.outcome == FetchCheck.Outcome.APPLIED
    assert FetchedFile.objects.count() == 2
    status = ice_list_status()
    assert status.checked_at == check.checked_at
    assert str(status.as_of) == "2025-05-16"


def test_the_same_list_again_changes_nothing_but_the_check_time(ice):
    options = standard_ice(ice)
    ice_lists_fetch(options)
    before = database_state()
    outcome = ice_lists_fetch(options)
    assert outcome.check.outcome == FetchCheck.Outcome.NOTHING_NEW
    assert not outcome.applied and not outcome.held
    assert database_state() == before
    assert FetchCheck.objects.count() == 2
    assert ice_list_status().checked_at == outcome.check.checked_at


def test_a_list_cut_to_a_fifth_is_held_ends_nothing_and_can_be_applied_or_rejected(
    ice, django_user_model
):
    ice_lists_fetch(standard_ice(ice))
    before = database_state()
    cut = cut_to_a_fifth(PARTICIPATING)
    outcome = ice_lists_fetch(newer_page(ice, cut))
    assert outcome.check.outcome == FetchCheck.Outcome.HELD
    held = HeldList.objects.get()
    assert held.file_name == CUT_NAME
    assert held.codes == ["rows_dropped"]
    assert "held" in held.reasons[0]
    assert held_lists() == [held]
    assert database_state() == before  # no agreement ended
    # Fetched again: the same bytes are not held twice.
    ice_lists_fetch(newer_page(ice, cut))
    assert HeldList.objects.count() == 1
    user = django_user_model.objects.create_user("organizer")
    held_list_reject(held, user=user)
    assert held_lists() == []
    assert database_state() == before
    result = held_list_apply(held, user=user)
    held.refresh_from_db()
    assert held.decision == HeldList.Decision.APPLIED and held.snapshot == result.snapshot
    assert Agreement.objects.filter(status=Agreement.Status.ACTIVE).count() < 571 // 4


@pytest.mark.parametrize("kind", ["timeout", "html", "no links"])
def test_a_timeout_or_an_error_page_leaves_everything_as_it_was(ice, kind, caplog):
    ice_lists_fetch(standard_ice(ice))
    before = database_state()
    fetched_before = FetchedFile.objects.count()
    options = standard_ice(ice)
    options = FetchOptions(page_url=options.page_url, timeout=0.5)
    path = "/doclib/about/287g/participatingAgencies05162025am.xlsx"
    ice.routes["/identify-and-arrest/pendingAgencies05152025am.xlsx"] = (
        200,
        "application/octet-stream",
        b"PK\x03\x04 new pending",
        0,
    )
    if kind == "timeout":
        ice.file(path, PARTICIPATING + b"x", delay=1.5)
    elif kind == "html":
        ice.file(path, b"<html>Service unavailable</html>", content_type="text/html")
    else:
        ice.page("<html><body>We moved the lists.</body></html>")
    with caplog.at_level(logging.ERROR, logger="assistant.ice_import.services"):
        outcome = ice_lists_fetch(options)
    assert outcome.error
    assert outcome.check.outcome == FetchCheck.Outcome.ERROR
    assert options.page_url in caplog.text or "127.0.0.1" in caplog.text
    assert database_state() == before
    assert FetchedFile.objects.count() == fetched_before
    assert not HeldList.objects.exists()


def test_the_command_fails_clearly_when_ice_does_not_answer(ice, settings):
    settings.ICE_287G_PAGE_URL = ice.base + "/nowhere"
    with pytest.raises(CommandError, match="404"):
        call_command("fetch_287g", stdout=io.StringIO())
    assert not ImportSnapshot.objects.exists()


def test_the_beat_runs_the_task_every_six_hours_by_default(settings):
    from config.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["fetch-287g"]
    assert entry["task"] == "assistant.tasks.fetch_287g"
    assert entry["schedule"] == 6 * 60 * 60
    app.loader.import_default_modules()
    assert "assistant.tasks.fetch_287g" in app.tasks


def test_organizers_see_a_held_list_on_the_start_page_and_apply_it(ice, client, admin_login):
    ice_lists_fetch(standard_ice(ice))
    ice_lists_fetch(newer_page(ice, cut_to_a_fifth(PARTICIPATING)))
    held = HeldList.objects.get()
    organizer = admin_login(client, UserFactory(is_superuser=True))
    page = organizer.get(reverse("admin:index")).content.decode()
    assert 'id="attention-held"' in page
    assert CUT_NAME in page and "20% of the 571 rows" in page
    changelist = reverse("admin:assistant_heldlist_changelist")
    response = organizer.post(
        changelist, {"action": "apply_lists", "_selected_action": [held.pk]}, follow=True
    )
    assert response.status_code == 200
    held.refresh_from_db()
    assert held.decision == HeldList.Decision.APPLIED
    assert held.decided_by is not None
    assert ImportSnapshot.objects.latest("imported_at").file_name == CUT_NAME
    assert CUT_NAME not in organizer.get(reverse("admin:index")).content.decode()


def test_the_place_page_says_when_ices_list_was_last_checked(ice, client):
    ice_lists_fetch(standard_ice(ice))
    nassau = place("NY", "Nassau County")
    page = client.get(nassau.get_absolute_url(), follow=True).content.decode()
    assert "We last checked ICE&#x27;s site" in page or "We last checked ICE's site" in page
    assert "0\xa0minutes ago" in page or "0 minutes ago" in page
