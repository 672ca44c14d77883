"""The webhook only records a text; real Celery workers answer it, in order per resident.

Against the fake Twilio server: what reaches it for each number is what a resident's phone
would show, in the order it would show it.
"""

import threading
import uuid

import pytest
from django.db import connection
from django.test import Client

from assistant.models import InboundMessage
from assistant.sms.conversation import State, converse
from assistant.sms.lookup import DbLookup
from tests.sms_signing import signed_post
from tests.support.services import wait_for

pytestmark = pytest.mark.celery_worker

PATH = "/sms/inbound"


@pytest.fixture
def webhook_settings(settings, twilio_env):
    settings.TWILIO_AUTH_TOKEN = twilio_env["TWILIO_AUTH_TOKEN"]
    return twilio_env


def text(client, number: str, body: str):
    params = {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": "AC" + "0" * 32,
        "From": number,
        "To": "+15005550006",
        "Body": body,
        "NumMedia": "0",
    }
    response = signed_post(client, PATH, params)
    assert response.status_code == 200
    return response


def expected_replies(texts: list[str]) -> list[str]:
    """Return the replies the conversation gives to ``texts`` answered one after another."""
    state, replies = State(), []
    for body in texts:
        turn = converse(state=state, text=body, lookup=DbLookup())
        state = turn.state
        replies += [reply for reply in turn.replies if reply]
    return replies


def received_by(fake_twilio, number: str) -> list[str]:
    return [
        m["body"]
        for m in sorted(fake_twilio.accepted, key=lambda m: m["time"])
        if m["to"] == number
    ]


def test_a_burst_of_texts_from_one_number_is_answered_in_order_by_two_workers(
    start_celery_worker, webhook_settings, fake_twilio, loaded_places
):
    start_celery_worker(concurrency=2, **webhook_settings)
    start_celery_worker(concurrency=2, **webhook_settings)
    number = "+15165550100"
    # Each answer depends on the one before: out of order, "1" would find no place yet.
    texts = ["hola necesito ayuda", "11550", "1", "2", "3", "4", "0", "1"]
    expected = expected_replies(texts)
    client = Client()
    for body in texts:
        assert text(client, number, body).content.decode().strip().endswith("<Response />")
    wait_for(
        lambda: len(received_by(fake_twilio, number)) >= len(expected),
        timeout=60,
        message=f"only {len(received_by(fake_twilio, number))} of {len(expected)} replies",
    )
    assert received_by(fake_twilio, number) == expected
    rows = InboundMessage.objects.all()
    assert {row.outcome for row in rows} == {InboundMessage.Outcome.ANSWERED}
    # Answered: the number and the text are gone from the row.
    assert {(row.number_encrypted, row.body_encrypted) for row in rows} == {("", "")}


def test_twenty_residents_texting_twice_at_once_get_every_reply_in_order_once(
    start_celery_worker, webhook_settings, fake_twilio, loaded_places
):
    start_celery_worker(concurrency=2, **webhook_settings)
    start_celery_worker(concurrency=2, **webhook_settings)
    texts = ["hola necesito ayuda", "11550"]
    expected = expected_replies(texts)
    numbers = [f"+1516555{index:04d}" for index in range(20)]
    errors = []
    start = threading.Barrier(len(numbers))

    def resident(number):
        try:
            client = Client()
            start.wait()
            for body in texts:
                text(client, number, body)
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=resident, args=(number,)) for number in numbers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    total = len(expected) * len(numbers)
    wait_for(
        lambda: len(fake_twilio.accepted) >= total,
        timeout=90,
        interval=0.5,
        message=f"{len(fake_twilio.accepted)} of {total} replies",
    )
    for number in numbers:
        assert received_by(fake_twilio, number) == expected, number
    assert len(fake_twilio.accepted) == total, "a reply was sent twice"


def test_with_the_broker_down_the_webhook_answers_in_its_twiml(
    settings, db, loaded_places, monkeypatch
):
    from config.celery import app

    settings.TWILIO_AUTH_TOKEN = "test-auth-token-for-signatures"
    settings.SMS_BACKEND = "assistant.delivery.backends.locmem.LocmemBackend"
    dead = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    settings.REDIS_URL = dead
    monkeypatch.setattr(app.conf, "broker_url", dead)
    monkeypatch.setattr(app, "_pool", None)
    monkeypatch.setattr(app.amqp, "_producer_pool", None)
    app.conf.task_always_eager = False
    try:
        response = text(Client(), "+15165550199", "hola necesito ayuda")
    finally:
        app._pool = None
        app.amqp._producer_pool = None
    answer = response.content.decode()
    assert "<Message>" in answer and "codigo postal (ZIP)" in answer
    inbound = InboundMessage.objects.get()
    assert inbound.outcome == InboundMessage.Outcome.ANSWERED and not inbound.body_encrypted


def test_the_worker_that_answers_a_text_sends_its_first_reply_itself(
    start_celery_worker, webhook_settings, fake_twilio, loaded_places
):
    worker = start_celery_worker(concurrency=1, **webhook_settings)
    number = "+15165550177"
    expected = expected_replies(["hola necesito ayuda"])
    assert len(expected) == 1
    text(Client(), number, "hola necesito ayuda")
    wait_for(lambda: received_by(fake_twilio, number) == expected, timeout=60)
    # One task answered the text and sent the reply: no deliver task went through the broker.
    log = worker.log()
    assert "Task assistant.tasks.inbound_drain[" in log
    assert "Task assistant.tasks.deliver[" not in log
