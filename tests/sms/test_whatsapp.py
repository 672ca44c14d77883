"""WhatsApp through the same webhook and conversation: its own resident, one message a turn,
bold answers, sent from the WhatsApp sender; alerts outside the 24-hour window as templates."""

import json
import re
import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from assistant.alerts.sending import alert_send
from assistant.delivery.backends import locmem
from assistant.delivery.backends.twilio import TwilioBackend
from assistant.models import (
    Alert,
    AlertDelivery,
    AlertText,
    Conversation,
    OutboundMessage,
    Subscription,
)
from assistant.privacy import phone_hash
from assistant.sms.subscriptions import subscription_create
from tests.factories import UserFactory, place
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER
from tests.sms_signing import signed_post

pytestmark = pytest.mark.django_db

WHATSAPP_FROM = "whatsapp:+14155238886"
MARIA = "whatsapp:+15165550123"
JOHN = "whatsapp:+15165550188"
TEMPLATE_SID = "HX" + "a" * 32


@pytest.fixture
def send(client, django_capture_on_commit_callbacks):
    def text(body, sender):
        params = {
            "MessageSid": "SM" + uuid.uuid4().hex,
            "AccountSid": "AC" + "0" * 32,
            "From": sender,
            "To": WHATSAPP_FROM,
            "Body": body,
            "NumMedia": "0",
        }
        before = set(OutboundMessage.objects.values_list("pk", flat=True))
        # Prism answers every message with its spec example's one sid; forget the earlier
        # ones so the unique sid of the next reply can be recorded.
        OutboundMessage.objects.update(twilio_sid=None)
        with django_capture_on_commit_callbacks(execute=True):
            response = signed_post(client, "/sms/inbound", params)
        assert response.status_code == 200
        return list(OutboundMessage.objects.exclude(pk__in=before).order_by("pk"))

    return text


@pytest.fixture
def whatsapp_to_prism(settings, prism):  # noqa: F811
    settings.SMS_BACKEND = "assistant.delivery.backends.twilio.TwilioBackend"
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_FROM_NUMBER = FROM_NUMBER
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    settings.TWILIO_WHATSAPP_FROM = WHATSAPP_FROM
    settings.TWILIO_API_BASE_URL = prism
    settings.SMS_PACE_DEFAULT = 0


def _last_request():
    http = TwilioBackend().client.http_client
    violations = json.loads(http._test_only_last_response.headers.get("sl-violations", "[]"))
    assert [v for v in violations if v["location"][0] != "response"] == []
    return http._test_only_last_request


def test_a_whatsapp_conversation_in_two_languages_reaches_prism_as_one_message_a_turn(
    send, whatsapp_to_prism, ice_list
):
    # Spanish: the first message is answered in Spanish, from the WhatsApp sender.
    [welcome] = send("Hola, ¿la policía trabaja con ICE?", MARIA)
    request = _last_request()
    assert request.data["To"] == MARIA and request.data["From"] == WHATSAPP_FROM
    assert "WhatsApp no es privado" in request.data["Body"]
    welcome.refresh_from_db()
    assert welcome.status == OutboundMessage.Status.SENT, welcome.last_error_message
    assert re.fullmatch(r"SM[0-9a-fA-F]{32}", welcome.twilio_sid)
    assert welcome.sender == WHATSAPP_FROM and welcome.segments == 1

    [answer] = send("11550", MARIA)  # the whole answer, link and menu in one message
    body = _last_request().data["Body"]
    assert body.startswith("*Nassau County, NY: no") and "*\n" in body
    assert "http://" in body and "1 " in body
    assert "ó" in body or "á" in body or "é" in body  # accents kept: no GSM-7 folding here

    # English, another resident.
    [hello] = send("Hello, do police here work with ICE?", JOHN)
    assert "WhatsApp is not private" in _last_request().data["Body"]
    send("11550", JOHN)
    assert _last_request().data["Body"].startswith("*Nassau County, NY: no, police here")
    # STOP works the same way.
    [stopped] = send("STOP", JOHN)
    assert stopped.channel == OutboundMessage.Channel.TWIML
    assert send("11550", JOHN) == []

    conversations = {c.phone_hash: c.language for c in Conversation.objects.all()}
    assert conversations == {phone_hash(MARIA): "es", phone_hash(JOHN): "en"}
    assert not OutboundMessage.objects.filter(recipient_encrypted__contains="5550").exists()


def test_the_same_number_on_sms_and_whatsapp_is_two_residents(send, settings):
    settings.SMS_BACKEND = "assistant.delivery.backends.locmem.LocmemBackend"
    settings.TWILIO_AUTH_TOKEN = "test-auth-token-for-signatures"
    send("Hola", MARIA)
    send("Hello", MARIA.removeprefix("whatsapp:"))
    assert phone_hash(MARIA) != phone_hash(MARIA.removeprefix("whatsapp:"))
    languages = set(Conversation.objects.values_list("language", flat=True))
    assert languages == {"es", "en"}


@pytest.fixture
def alert_outside_the_window(settings):
    settings.SMS_BACKEND = "assistant.delivery.backends.locmem.LocmemBackend"
    settings.TWILIO_WHATSAPP_FROM = WHATSAPP_FROM
    locmem.outbox.clear()
    county = place("NY", "Nassau County")
    subscription_create(number=MARIA, place_id=county.pk, language="es")
    subscription_create(number="+15165550177", place_id=county.pk, language="es")
    # María last wrote two days ago: WhatsApp's window is closed.
    Conversation.objects.create(phone_hash=phone_hash(MARIA), language="es")
    Conversation.objects.filter(phone_hash=phone_hash(MARIA)).update(
        updated_at=timezone.now() - timedelta(days=2)
    )
    alert = Alert.objects.create(place=county, status=Alert.Status.APPROVED)
    AlertText.objects.create(alert=alert, language="es", body="La policía de Nassau\nfirmó 287(g).")
    AlertText.objects.create(alert=alert, language="en", body="Nassau police signed 287(g).")
    yield alert
    locmem.outbox.clear()


def test_an_alert_outside_the_window_goes_as_the_languages_template(
    alert_outside_the_window, settings, django_capture_on_commit_callbacks
):
    settings.TWILIO_WHATSAPP_ALERT_TEMPLATES = {
        "es": {"content_sid": TEMPLATE_SID, "variables": ["place", "text"]}
    }
    with django_capture_on_commit_callbacks(execute=True):
        assert alert_send(alert_id=alert_outside_the_window.pk) == 2
    by_to = {m.to: m for m in locmem.outbox}
    template = by_to[MARIA]
    assert template.content_sid == TEMPLATE_SID
    assert json.loads(template.body) == {
        "1": "Nassau County, NY",
        "2": "La policía de Nassau firmó 287(g).",
    }
    assert by_to["+15165550177"].content_sid == "" and "firmó" not in by_to["+15165550177"].body
    assert not AlertDelivery.objects.exclude(not_sent="").exists()


def test_an_alert_outside_the_window_without_a_template_is_not_sent_and_says_why(
    alert_outside_the_window, settings, client, admin_login, django_capture_on_commit_callbacks
):
    settings.TWILIO_WHATSAPP_ALERT_TEMPLATES = {}
    with django_capture_on_commit_callbacks(execute=True):
        alert_send(alert_id=alert_outside_the_window.pk)
    assert [m.to for m in locmem.outbox] == ["+15165550177"]
    skipped = AlertDelivery.objects.get(subscription__channel=Subscription.Channel.WHATSAPP)
    assert (
        skipped.message is None and skipped.not_sent == AlertDelivery.NotSent.NO_WHATSAPP_TEMPLATE
    )

    organizer = UserFactory(is_staff=True, is_superuser=True)
    admin_login(client, organizer)
    page = client.get(
        reverse("admin:assistant_alert_change", args=[alert_outside_the_window.pk])
    ).content.decode()
    assert "1 WhatsApp subscriber(s) had not written in the last 24 hours" in page
    assert "no template is set for: es" in page and "TWILIO_WHATSAPP_ALERT_TEMPLATES" in page
    assert "5550123" not in page


def test_an_alert_inside_the_window_goes_as_a_plain_whatsapp_message(
    alert_outside_the_window, django_capture_on_commit_callbacks
):
    Conversation.objects.filter(phone_hash=phone_hash(MARIA)).update(updated_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        alert_send(alert_id=alert_outside_the_window.pk)
    [to_maria] = [m for m in locmem.outbox if m.to == MARIA]
    assert to_maria.content_sid == "" and "287(g)" in to_maria.body
