"""POST /sms/inbound: signatures, replays, privacy, abuse limits and bad input."""

import logging
import uuid

import pytest

from assistant.delivery.backends import locmem
from assistant.models import Conversation, InboundMessage, OptOut
from assistant.privacy import phone_hash
from tests.sms_signing import signed_post, twilio_signature

pytestmark = pytest.mark.django_db

PATH = "/sms/inbound"
NUMBER = "+15165550123"


@pytest.fixture(autouse=True)
def sms_settings(settings):
    settings.TWILIO_AUTH_TOKEN = "test-auth-token-for-signatures"
    settings.SMS_BACKEND = "assistant.delivery.backends.locmem.LocmemBackend"
    locmem.outbox.clear()
    yield settings
    locmem.outbox.clear()


@pytest.fixture(autouse=True)
def replies_leave_on_commit(django_capture_on_commit_callbacks, monkeypatch):
    """Run the replies' on-commit hand-off to the delivery queue, as a real request would.

    Each test runs inside one transaction that never commits, so the callbacks that queue
    the replies are captured around every request and run when it returns.
    """
    import tests.sms_signing as signing

    real_signed_post = signing.signed_post

    def committed_post(*args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return real_signed_post(*args, **kwargs)

    monkeypatch.setitem(globals(), "signed_post", committed_post)


def params(body="hello", sid=None, sender=NUMBER, **extra):
    values = {
        "MessageSid": sid or "SM" + uuid.uuid4().hex,
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "To": "+15005550006",
        "Body": body,
        "NumMedia": "0",
    }
    values.update(extra)
    return values


def text(client, body, **extra):
    return signed_post(client, PATH, params(body, **extra))


def test_a_signed_message_gets_empty_twiml_and_a_reply_in_its_language(client):
    response = text(client, "hola necesito ayuda")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert response.content.decode().strip().endswith("<Response />")
    assert locmem.outbox and all(message.to == NUMBER for message in locmem.outbox)
    assert "codigo postal (ZIP)" in locmem.outbox[0].body


def test_state_and_inbound_records_keep_only_the_keyed_hash_never_the_number_or_body(client):
    text(client, "hola necesito ayuda")
    text(client, "nassau county, ny")
    conversation = Conversation.objects.get()
    assert conversation.phone_hash == phone_hash(NUMBER)
    assert conversation.language == "es" and conversation.place.name == "Nassau County"
    for row in InboundMessage.objects.values():
        assert NUMBER not in str(row) and "5165550123" not in str(row)
        assert "nassau" not in str(row).lower()


def test_logs_hold_neither_number_nor_body(client, caplog):
    with caplog.at_level(logging.DEBUG):
        text(client, "secret words 11040")
    assert "5550123" not in caplog.text and "secret" not in caplog.text


def test_a_forged_signature_is_refused(client):
    values = params("hello")
    response = client.post(PATH, values, headers={"X-Twilio-Signature": "forged="})
    assert response.status_code == 403
    assert not locmem.outbox and not InboundMessage.objects.exists()


def test_a_missing_signature_is_refused(client):
    assert client.post(PATH, params("hello")).status_code == 403


def test_a_signature_for_another_url_is_refused(client, settings):
    values = params("hello")
    for signature in (
        twilio_signature("/sms/status", values),
        twilio_signature(PATH + "?x=1", values),
        twilio_signature(PATH, {**values, "Body": "changed"}),
        twilio_signature(PATH, values, token="another-accounts-token"),
    ):
        response = client.post(PATH, values, headers={"X-Twilio-Signature": signature})
        assert response.status_code == 403
    # The Host header a proxy rewrote does not matter: PUBLIC_BASE_URL does.
    response = client.post(
        PATH,
        values,
        headers={"X-Twilio-Signature": twilio_signature(PATH, values)},
        HTTP_HOST="localhost",
    )
    assert response.status_code == 200


def test_a_replayed_message_gets_one_reply(client):
    values = params("hello I need help")
    signed_post(client, PATH, values)
    sent = len(locmem.outbox)
    assert sent >= 1
    assert signed_post(client, PATH, values).status_code == 200
    assert len(locmem.outbox) == sent
    assert InboundMessage.objects.count() == 1


@pytest.mark.parametrize("missing", ["MessageSid", "From", "Body"])
def test_missing_twilio_fields_are_a_bad_request(client, missing):
    values = params("hello")
    del values[missing]
    assert signed_post(client, PATH, values).status_code == 400
    assert not locmem.outbox


def test_a_malformed_sid_is_a_bad_request(client):
    assert text(client, "hello", sid="not-a-sid").status_code == 400


@pytest.mark.parametrize(
    "sender",
    [
        "+1٥١٦٥٥٥٠١٢٣",  # Arabic-Indic digits
        "+1５１６５５５０１２３",  # fullwidth digits
        "+1516555०१२३",  # Devanagari digits after ASCII ones
        "+1516555012³",
        "whatsapp:+1٥١٦٥٥٥٠١٢٣",
        "+1 516 555 0123",
        "+1-516-555-0123",
        "15165550123x",
        "+",
        "whatsapp:",
        "+1234567890123456",  # 16 digits: longer than any E.164 number
    ],
)
def test_a_sender_that_is_not_ascii_digits_is_a_bad_request_and_gets_no_reply(client, sender):
    response = text(client, "hello", sender=sender)
    assert response.status_code == 400
    assert "From must be a phone number" in response.content.decode()
    assert not InboundMessage.objects.exists() and not Conversation.objects.exists()
    assert not locmem.outbox


@pytest.mark.parametrize("sender", ["+15165550123", "15165550123", "whatsapp:+15165550123"])
def test_twilios_own_ways_of_writing_a_sender_are_answered(client, sender):
    assert text(client, "hello", sender=sender).status_code == 200
    assert locmem.outbox


@pytest.mark.parametrize(
    ("body", "extra"),
    [
        ("x" * 1700, {}),
        ("", {}),
        ("😀🚓😀", {}),
        ("\u202bمرحبا، أحتاج مساعدة\u202c", {}),
        ("", {"NumMedia": "1", "MediaUrl0": "https://api.twilio.com/x.jpg"}),
        ("%E2%82%AC%ZZ%%+hello&Body=x", {}),
        ("\x00\x1b", {}),
    ],
)
def test_bad_input_gets_a_sensible_reply_never_a_500(client, body, extra):
    response = text(client, body, **extra)
    assert response.status_code == 200
    assert locmem.outbox, "never silence"


def test_stop_opts_out_and_nothing_is_sent_until_start(client):
    text(client, "hello")
    text(client, "11040")  # the county menu is open
    locmem.outbox.clear()
    response = text(client, "STOP please")
    assert OptOut.objects.filter(phone_hash=phone_hash(NUMBER)).exists()
    # The one confirmation goes in the webhook's answer: the queue would not send it.
    assert "You will get no more messages. Text START to come back." in response.content.decode()
    assert text(client, "STOP").content.decode().strip().endswith("<Response />")
    text(client, "1")
    text(client, "HELP")
    assert locmem.outbox == []
    text(client, "START")
    assert not OptOut.objects.exists()
    assert "Welcome back" in locmem.outbox[0].body


def test_delete_erases_the_state_at_once_and_confirms(client):
    text(client, "hello")
    text(client, "nassau county, ny")
    text(client, "DELETE")
    assert not Conversation.objects.exists()
    assert not InboundMessage.objects.exclude(phone_hash="").exists()
    assert locmem.outbox[-1].body.startswith("Done. We erased")


def test_replies_beyond_the_hourly_limit_are_dropped_and_counted(client, settings):
    settings.SMS_REPLIES_PER_HOUR = 3
    for body in ("hello", "11040", "1", "2", "3"):
        assert text(client, body).status_code == 200
    dropped = InboundMessage.objects.filter(outcome=InboundMessage.Outcome.RATE_LIMITED)
    assert dropped.count() >= 1
    assert set(dropped.values_list("phone_hash", flat=True)) == {""}
    sent = len(locmem.outbox)
    text(client, "STOP")  # STOP is still heard
    assert OptOut.objects.exists() and len(locmem.outbox) == sent


def test_the_same_text_again_and_again_is_dropped_as_a_bot_loop(client, settings):
    settings.SMS_LOOP_REPEATS = 3
    text(client, "hello")
    for _ in range(4):
        text(client, "Thanks for your message! We will reply soon.")
    assert InboundMessage.objects.filter(outcome=InboundMessage.Outcome.LOOP).count() == 2
    other = "+15165550999"
    text(client, "Thanks for your message! We will reply soon.", sender=other)
    assert locmem.outbox[-1].to == other


def test_a_resident_who_resends_their_zip_is_answered_every_time(client, settings):
    settings.SMS_LOOP_REPEATS = 3
    text(client, "hello")
    for _ in range(4):
        before = len(locmem.outbox)
        text(client, "11550")
        assert len(locmem.outbox) > before
        assert "Nassau County, NY" in locmem.outbox[-1].body
    assert not InboundMessage.objects.filter(outcome=InboundMessage.Outcome.LOOP).exists()
