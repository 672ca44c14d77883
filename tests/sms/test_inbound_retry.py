"""A text whose answer failed after the webhook recorded it is answered when Twilio retries it.

The webhook commits the text (pending) before answering. When answering in the webhook itself
fails (an opt-out, or the broker down), the row stays pending and nothing was sent; the retry
of the same MessageSid (Twilio's, or its fallback URL's) must be answered, not taken for a
duplicate. The failure is PostgreSQL's own: a trigger refuses the replies' rows.
"""

import uuid

import pytest
from django.db import connection
from django.test import Client

from assistant.models import InboundMessage, OptOut, OutboundMessage
from assistant.privacy import phone_hash
from tests.sms_signing import signed_post

pytestmark = pytest.mark.django_db

PATH = "/sms/inbound"
NUMBER = "+15165550150"


@pytest.fixture(autouse=True)
def sms_settings(settings, postgres):
    settings.TWILIO_AUTH_TOKEN = "test-auth-token-for-signatures"
    settings.SMS_BACKEND = "assistant.delivery.backends.locmem.LocmemBackend"


@pytest.fixture
def broker_down(settings, monkeypatch):
    from config.celery import app

    dead = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    settings.REDIS_URL = dead
    monkeypatch.setattr(app.conf, "broker_url", dead)
    monkeypatch.setattr(app, "_pool", None)
    monkeypatch.setattr(app.amqp, "_producer_pool", None)
    app.conf.task_always_eager = False
    yield
    app._pool = None
    app.amqp._producer_pool = None


def replies_refused():
    """Make PostgreSQL refuse every reply's row (rolled back with the test's transaction)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION refuse_replies() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'replies refused by the test'; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER refuse_replies BEFORE INSERT ON assistant_outboundmessage "
            "FOR EACH ROW EXECUTE FUNCTION refuse_replies()"
        )


def replies_allowed():
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER refuse_replies ON assistant_outboundmessage")


def twilio_posts(body: str) -> dict[str, str]:
    return {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": "AC" + "0" * 32,
        "From": NUMBER,
        "To": "+15005550006",
        "Body": body,
        "NumMedia": "0",
    }


def first_attempt_fails_then_retry(params):
    client = Client(raise_request_exception=False)
    replies_refused()
    failed = signed_post(client, PATH, params)
    assert failed.status_code == 500
    row = InboundMessage.objects.get(sid=params["MessageSid"])
    assert row.outcome == InboundMessage.Outcome.PENDING
    assert not OutboundMessage.objects.exists()
    replies_allowed()
    retry = signed_post(client, PATH, params)
    assert retry.status_code == 200
    return retry.content.decode()


def test_an_opt_out_whose_confirmation_failed_is_confirmed_on_the_retry():
    params = twilio_posts("STOP")
    twiml = first_attempt_fails_then_retry(params)
    assert "You will get no more messages" in twiml
    assert OptOut.objects.filter(phone_hash=phone_hash(NUMBER)).exists()
    assert InboundMessage.objects.get().outcome == InboundMessage.Outcome.ANSWERED
    # Answered now, the sid is a duplicate: a third request of it is not confirmed again.
    third = signed_post(Client(), PATH, params)
    assert third.status_code == 200 and "<Message>" not in third.content.decode()


def test_with_the_broker_down_a_text_whose_answer_failed_is_answered_on_the_retry(broker_down):
    params = twilio_posts("hola necesito ayuda")
    twiml = first_attempt_fails_then_retry(params)
    assert "<Message>" in twiml and "codigo postal (ZIP)" in twiml
    assert InboundMessage.objects.get().outcome == InboundMessage.Outcome.ANSWERED
    # Answered now, the sid is a duplicate: Twilio's next retry gets nothing twice.
    third = signed_post(Client(), PATH, params)
    assert "<Message>" not in third.content.decode()
    assert OutboundMessage.objects.count() == twiml.count("<Message>")
