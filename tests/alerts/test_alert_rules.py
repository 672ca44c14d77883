"""Two people for every alert (read from the texts' history) and alerts only for news."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from assistant.alerts.models import Alert, AlertText
from assistant.alerts.selectors import alert_proposals
from assistant.alerts.services import alert_create_from_flag
from assistant.content.models import ReviewFlag
from assistant.delivery.backends import locmem
from assistant.sms.models import Subscription
from tests.factories import place, user_with_roles

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def sms_settings(settings):
    settings.SMS_BACKEND = "assistant.delivery.backends.locmem.LocmemBackend"
    locmem.outbox.clear()
    yield
    locmem.outbox.clear()


def subscribe(number, county, language, when):
    with time_machine.travel(when, tick=False):
        subscription = Subscription(place=county, language=language)
        subscription.set_number(number)
        subscription.save()
    return subscription


def flag_at(county, when, changed_on=None):
    with time_machine.travel(when, tick=False):
        return ReviewFlag.objects.create(
            place=county, reason=ReviewFlag.Reason.ANSWER_CHANGED, changed_on=changed_on
        )


NOW = datetime.datetime(2026, 12, 1, 12, tzinfo=datetime.UTC)


def text_form(alert, **bodies):
    data = {
        "texts-TOTAL_FORMS": str(alert.texts.count()),
        "texts-INITIAL_FORMS": str(alert.texts.count()),
        "texts-MIN_NUM_FORMS": "0",
        "texts-MAX_NUM_FORMS": "1000",
    }
    for index, text in enumerate(alert.texts.order_by("language")):
        data[f"texts-{index}-id"] = str(text.pk)
        data[f"texts-{index}-alert"] = str(alert.pk)
        data[f"texts-{index}-language"] = text.language
        data[f"texts-{index}-body"] = bodies.get(text.language, text.body)
    return data


def test_a_reviewer_who_rewrote_the_spanish_text_cannot_approve_it(
    client, admin_login, django_capture_on_commit_callbacks
):
    county = place("NY", "Nassau County")
    subscribe("+15165550001", county, "en", NOW - datetime.timedelta(days=3))
    subscribe("+15165550002", county, "es", NOW - datetime.timedelta(days=3))
    flag = flag_at(county, NOW - datetime.timedelta(days=1))
    editor = user_with_roles("Editor", username="eddie")
    rita = user_with_roles("Reviewer", username="rita")
    sam = user_with_roles("Reviewer", username="sam")
    alert = alert_create_from_flag(flag=flag, user=editor)

    admin_login(client, rita)
    url = reverse("admin:assistant_alert_change", args=[alert.pk])
    response = client.post(url, text_form(alert, es="Texto de Rita. Responda STOP."))
    assert response.status_code == 302
    assert AlertText.objects.get(alert=alert, language="es").body.startswith("Texto de Rita")
    page = client.get(url).content.decode()
    assert "Approve and send" not in page
    assert "someone else must approve it" in page
    response = client.post(reverse("admin:assistant_alert_approve", args=[alert.pk]), follow=True)
    assert "someone else must approve it" in response.content.decode()
    alert.refresh_from_db()
    assert alert.status == Alert.Status.DRAFT and not locmem.outbox

    admin_login(client, sam)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:assistant_alert_approve", args=[alert.pk]))
    alert.refresh_from_db()
    assert alert.status == Alert.Status.SENT and alert.approved_by == sam
    assert any(m.body.startswith("Texto de Rita.") for m in locmem.outbox)


def test_no_alert_is_proposed_for_a_change_from_before_the_subscription():
    county = place("NY", "Nassau County")
    with time_machine.travel(NOW, tick=False):
        # The import found the change before anyone subscribed: they read the new answer.
        old = flag_at(county, NOW - datetime.timedelta(days=5), datetime.date(2026, 3, 1))
        subscribe("+15165550001", county, "en", NOW - datetime.timedelta(days=2))
        assert old not in alert_proposals()
        # A later list changes it again: news for the subscriber, even if ICE dates the
        # change earlier (the site said otherwise until the import).
        new = flag_at(county, NOW - datetime.timedelta(days=1), datetime.date(2026, 11, 20))
        proposals = list(alert_proposals())
        assert proposals == [new] and proposals[0].subscriber_count == 1
        # Older than 30 days is not news any more.
        ReviewFlag.objects.filter(pk=new.pk).update(created_at=NOW - datetime.timedelta(days=31))
        assert list(alert_proposals()) == []


def test_an_alert_goes_only_to_those_who_subscribed_before_the_change(
    django_capture_on_commit_callbacks,
):
    from assistant.alerts.services import alert_approve

    county = place("NY", "Nassau County")
    subscribe("+15165550001", county, "en", NOW - datetime.timedelta(days=3))
    flag = flag_at(county, NOW - datetime.timedelta(days=2))
    subscribe("+15165550002", county, "ko", NOW - datetime.timedelta(days=1))
    alert = alert_create_from_flag(flag=flag, user=user_with_roles("Editor", username="e"))
    assert [t.language for t in alert.texts.all()] == ["en"]
    with django_capture_on_commit_callbacks(execute=True):
        alert_approve(alert=alert, user=user_with_roles("Reviewer", username="r"))
    assert len(locmem.outbox) == 1
