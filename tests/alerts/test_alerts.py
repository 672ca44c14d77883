"""Subscriptions through the SMS webhook, alerts written, approved and sent, in every language."""

import uuid

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from assistant.alerts.services import alert_create_from_flag
from assistant.delivery.backends import locmem
from assistant.delivery.segments import count_segments
from assistant.models import Alert, AlertDelivery, OptOut, OutboundMessage, ReviewFlag, Subscription
from assistant.privacy import phone_hash
from assistant.sms.compose import budget_for
from assistant.sms.conversation import State, converse
from assistant.sms.language import LANGUAGE_CODES
from assistant.sms.lookup import DbLookup
from tests.factories import UserFactory, place, user_with_roles
from tests.sms_signing import signed_post

pytestmark = pytest.mark.django_db

NUMBER = "+15165550123"
OTHER = "+15165550188"


@pytest.fixture(autouse=True)
def sms_settings(settings, django_capture_on_commit_callbacks):
    settings.TWILIO_AUTH_TOKEN = "test-auth-token-for-signatures"
    settings.SMS_BACKEND = "assistant.delivery.backends.locmem.LocmemBackend"
    locmem.outbox.clear()
    yield settings
    locmem.outbox.clear()


def text(client, body, sender=NUMBER, capture=None):
    params = {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "To": "+15005550006",
        "Body": body,
        "NumMedia": "0",
    }
    locmem.outbox.clear()
    with capture(execute=True):
        response = signed_post(client, "/sms/inbound", params)
    assert response.status_code == 200
    return [message.body for message in locmem.outbox]


@pytest.fixture
def say(client, django_capture_on_commit_callbacks):
    def send(body, sender=NUMBER):
        return text(client, body, sender, django_capture_on_commit_callbacks)

    return send


def test_subscribe_after_the_place_is_known_subscribes_in_the_residents_language(say):
    say("hola, necesito ayuda")
    say("11501")
    nassau = place("NY", "Nassau County")
    (reply,) = say("ALERTAS")
    assert "Listo" in reply and "Nassau County, NY" in reply and "STOP" in reply
    subscription = Subscription.objects.get()
    assert subscription.place == nassau and subscription.language == "es"
    assert subscription.phone_hash == phone_hash(NUMBER)
    assert subscription.number() == NUMBER
    assert NUMBER not in subscription.number_encrypted


def test_a_second_subscribe_changes_nothing_and_says_so(say):
    say("hello")
    say("Nassau County, NY")
    say("SUBSCRIBE")
    (reply,) = say("subscribe")
    assert reply.startswith("You already get alerts for Nassau County, NY")
    assert Subscription.objects.count() == 1


def test_subscribe_before_a_place_is_known_asks_for_the_zip_first(say):
    say("bonjour")
    (reply,) = say("ABONNER")
    assert "code postal" in reply and "ABONNER" in reply
    assert not Subscription.objects.exists()
    first = say("SUBSCRIBE", sender=OTHER)
    assert "first send your ZIP code" in " ".join(first)
    assert not Subscription.objects.exists()


@pytest.mark.parametrize("word", ["STOP", "UNSUBSCRIBE", "DELETE"])
def test_stop_unsubscribe_and_delete_end_the_subscription(say, word):
    say("hello")
    say("11501")
    say("SUBSCRIBE")
    assert Subscription.objects.count() == 1
    say(word)
    assert not Subscription.objects.exists()


@pytest.mark.parametrize("language", LANGUAGE_CODES)
def test_subscription_replies_fit_the_segment_budget_in_every_language(language):
    lookup = DbLookup()
    county = place("NM", "Doña Ana County")
    replies = []
    replies += converse(state=State(language=language), text="SUBSCRIBE", lookup=lookup).replies
    known = State(language=language, place_id=county.pk, menu="place")
    turn = converse(state=known, text="SUBSCRIBE", lookup=lookup)
    assert turn.effect == "subscribe"
    replies += turn.replies
    replies += converse(state=turn.state, text="SUBSCRIBE", lookup=lookup).replies
    assert len(replies) == 3
    for body in replies:
        assert count_segments(body).segments <= budget_for(language), (language, body)
    if language != "en":
        english = converse(state=State(language="en"), text="SUBSCRIBE", lookup=lookup).replies
        assert replies[0] != english[0], f"{language} is not translated"


# Alerts -------------------------------------------------------------------------------------


def subscribe(number: str, county, language: str) -> Subscription:
    subscription = Subscription(place=county, language=language)
    subscription.set_number(number)
    subscription.save()
    return subscription


@pytest.fixture
def changed_nassau():
    county = place("NY", "Nassau County")
    subscribe("+15165550001", county, "en")
    subscribe("+15165550002", county, "es")
    subscribe("+15165550003", county, "ko")
    flag = ReviewFlag.objects.create(
        place=county, reason=ReviewFlag.Reason.ANSWER_CHANGED, detail="no → yes"
    )
    return county, flag


@pytest.fixture
def organizers():
    author = UserFactory(username="author", is_superuser=True)
    reviewer = UserFactory(username="reviewer", is_superuser=True)
    reviewer.groups.add(Group.objects.get_or_create(name="Reviewer")[0])
    return author, reviewer


def approve(client, admin_login, user, alert):
    admin_login(client, user)
    return client.post(
        reverse("admin:assistant_alert_changelist"),
        {"action": "approve_and_send", "_selected_action": [alert.pk]},
        follow=True,
    )


def test_the_alert_list_proposes_an_alert_for_a_changed_place_with_subscribers(
    client, admin_login, changed_nassau, organizers
):
    county, flag = changed_nassau
    author, _reviewer = organizers
    admin_login(client, author)
    page = client.get(reverse("admin:assistant_alert_changelist")).content.decode()
    assert "Nassau County, NY" in page and "Write an alert" in page
    response = client.post(reverse("admin:assistant_alert_from_flag", args=[flag.pk]))
    alert = Alert.objects.get()
    assert response.url == reverse("admin:assistant_alert_change", args=[alert.pk])
    texts = {t.language: t.body for t in alert.texts.all()}
    assert set(texts) == {"en", "es", "ko"}
    assert texts["en"].startswith("Update for Nassau County, NY: police there no longer have")
    assert "ya no tiene" in texts["es"] and "STOP" in texts["es"]
    assert "협정이 없습니다" in texts["ko"]
    page = client.get(reverse("admin:assistant_alert_changelist")).content.decode()
    assert "Write an alert" not in page  # proposed once


def test_an_alert_with_an_empty_language_cannot_be_approved(
    client, admin_login, changed_nassau, organizers
):
    _county, flag = changed_nassau
    author, reviewer = organizers
    alert = alert_create_from_flag(flag=flag, user=author)
    alert.texts.filter(language="ko").update(body="  ")
    response = approve(client, admin_login, reviewer, alert)
    assert "has no text in: Korean" in response.content.decode()
    alert.refresh_from_db()
    assert alert.status == Alert.Status.DRAFT
    assert not OutboundMessage.objects.exists()


def test_the_author_and_non_reviewers_cannot_approve(
    client, admin_login, changed_nassau, organizers
):
    _county, flag = changed_nassau
    author, reviewer = organizers
    author.groups.add(Group.objects.get(name="Reviewer"))
    alert = alert_create_from_flag(flag=flag, user=author)
    response = approve(client, admin_login, author, alert)
    assert "someone else must approve it" in response.content.decode()
    # An Editor sees the alert but has no approve button; the address refuses them too.
    outsider = user_with_roles("Editor", username="outsider")
    admin_login(client, outsider)
    page = client.get(reverse("admin:assistant_alert_change", args=[alert.pk])).content.decode()
    assert "Approve and send" not in page
    response = client.post(reverse("admin:assistant_alert_approve", args=[alert.pk]), follow=True)
    assert "Only a member of the Reviewer group" in response.content.decode()
    alert.refresh_from_db()
    assert alert.status == Alert.Status.DRAFT


def test_an_approved_alert_reaches_each_subscriber_once_in_their_language_except_opted_out(
    client, admin_login, changed_nassau, organizers, django_capture_on_commit_callbacks
):
    _county, flag = changed_nassau
    author, reviewer = organizers
    OptOut.objects.create(phone_hash=phone_hash("+15165550003"), source="keyword")
    alert = alert_create_from_flag(flag=flag, user=author)
    alert.texts.filter(language="es").update(body="Texto revisado por el equipo. STOP para parar.")
    with django_capture_on_commit_callbacks(execute=True):
        response = approve(client, admin_login, reviewer, alert)
    assert "approved" in response.content.decode()
    sent = {m.to: m.body for m in locmem.outbox}
    assert set(sent) == {"+15165550001", "+15165550002"}
    assert sent["+15165550002"] == "Texto revisado por el equipo. STOP para parar."
    assert sent["+15165550001"].startswith("Update for Nassau County, NY")
    alert.refresh_from_db()
    assert alert.status == Alert.Status.SENT and alert.approved_by == reviewer
    assert AlertDelivery.objects.filter(alert=alert).count() == 3
    page = client.get(reverse("admin:assistant_alert_change", args=[alert.pk])).content.decode()
    for number in ("+15165550001", "5165550002", "5165550003"):
        assert number not in page
    from assistant.alerts.sending import alert_send
    from assistant.alerts.services import alert_progress

    assert alert_progress(alert=alert) == {
        "not_sent": 0,
        "not_sent_languages": [],
        "queued": 0,
        "sent": 2,
        "delivered": 0,
        "failed": 1,
    }
    # Run again (a redelivered task): nobody gets a second copy.
    with django_capture_on_commit_callbacks(execute=True):
        Alert.objects.filter(pk=alert.pk).update(status=Alert.Status.SENDING)
        assert alert_send(alert_id=alert.pk) == 0
    assert len(locmem.outbox) == 2


def test_the_start_page_proposes_the_alert_and_lists_it_until_a_reviewer_approves_it(
    client, admin_login, changed_nassau, organizers, django_capture_on_commit_callbacks
):
    _county, flag = changed_nassau
    author, reviewer = organizers
    admin_login(client, author)
    page = client.get(reverse("admin:index")).content.decode()
    write_url = reverse("admin:assistant_alert_from_flag", args=[flag.pk])
    proposals = page[page.index("Proposed alerts") : page.index("waiting for a Reviewer")]
    assert "Nassau County, NY" in proposals and "3 subscribers" in proposals
    assert f'action="{write_url}"' in proposals and "Write an alert" in proposals
    response = client.post(write_url)  # the button on the start page
    alert = Alert.objects.get()
    assert response.url == reverse("admin:assistant_alert_change", args=[alert.pk])
    page = client.get(reverse("admin:index")).content.decode()
    waiting = page[page.index("waiting for a Reviewer") : page.index("Review flags")]
    assert write_url not in page  # proposed once
    assert reverse("admin:assistant_alert_change", args=[alert.pk]) in waiting
    assert "Nassau County, NY" in waiting and "written by author" in waiting
    with django_capture_on_commit_callbacks(execute=True):
        approve(client, admin_login, reviewer, alert)
    page = client.get(reverse("admin:index")).content.decode()
    waiting = page[page.index("waiting for a Reviewer") : page.index("Review flags")]
    assert "Nassau County, NY" not in waiting
