"""The inbound spool: texts that arrive while the database cannot be reached.

The database is taken away from the webhook by pointing its connection at a port where
nothing listens (a stopped PostgreSQL refuses the same way); tests/sms/test_postgres_outage.py
stops a real one under gunicorn. Tasks run in process here, as in the other webhook tests.
"""

import logging
import uuid

import pytest
import redis

from assistant.delivery.backends import locmem
from assistant.models import InboundMessage
from assistant.sms.spool import PROCESSING_KEY, SPOOL_KEY, inbound_spool_drain
from assistant.sms.tasks import inbound_spool_drain as inbound_spool_drain_task
from tests.sms.test_inbound_worker import expected_replies
from tests.sms_signing import signed_post
from tests.support.services import database_unreachable

pytestmark = pytest.mark.django_db(transaction=True)

PATH = "/sms/inbound"
ANA, BAO, CHE = "+15165550101", "+15165550102", "+15165550103"


@pytest.fixture(autouse=True)
def sms_settings(settings, postgres, redis_url):
    settings.TWILIO_AUTH_TOKEN = "test-auth-token-for-signatures"
    settings.SMS_BACKEND = "assistant.delivery.backends.locmem.LocmemBackend"
    locmem.outbox.clear()
    yield settings
    locmem.outbox.clear()


@pytest.fixture
def spool(redis_url):
    """The Redis the spool lives in (emptied before each test with the cache)."""
    return redis.Redis.from_url(redis_url)


def text(client, number: str, body: str, sid: str | None = None):
    params = {
        "MessageSid": sid or "SM" + uuid.uuid4().hex,
        "AccountSid": "AC" + "0" * 32,
        "From": number,
        "To": "+15005550006",
        "Body": body,
        "NumMedia": "0",
    }
    response = signed_post(client, PATH, params)
    assert response.status_code == 200, response.content
    return response.content.decode(), params["MessageSid"]


def sent_to(number: str) -> list[str]:
    return [message.body for message in locmem.outbox if message.to == number]


def redis_contents(client: redis.Redis) -> str:
    """Every key and value in the spool's Redis database, as one string."""
    seen = []
    for key in client.scan_iter():
        kind = client.type(key)
        if kind == b"string":
            values = [client.get(key)]
        elif kind == b"list":
            values = client.lrange(key, 0, -1)
        elif kind == b"hash":
            values = [*client.hgetall(key).keys(), *client.hgetall(key).values()]
        elif kind == b"set":
            values = list(client.smembers(key))
        else:
            values = []
        seen.append(key.decode(errors="replace"))
        seen += [value.decode(errors="replace") for value in values if value]
    return "\n".join(seen)


def test_with_the_database_down_a_text_is_kept_encrypted_and_the_resident_told_in_their_language(
    client, spool
):
    with database_unreachable():
        twiml, sid = text(client, ANA, "hola necesito ayuda con la policia")
        assert "<Message>Recibimos su mensaje. Su respuesta llegara en unos minutos." in twiml
        assert "We got your message" not in twiml
        # Twilio's retry of the same sid is not kept twice, and says nothing more.
        again, _sid = text(client, ANA, "hola necesito ayuda con la policia", sid=sid)
        assert "<Message>" not in again
        # Told once: the resident's next text is kept without another "answer coming".
        assert "<Message>" not in text(client, ANA, "11550")[0]
        # Nothing to tell a language by: English, then Spanish.
        twiml, _sid = text(client, BAO, "11550")
        assert "We got your message. Your answer is coming in a few minutes." in twiml
        assert "Recibimos su mensaje" in twiml
        # STOP is confirmed at once, as always; the opt-out is recorded with the others.
        twiml, _sid = text(client, CHE, "STOP")
        assert "You will get no more messages" in twiml and "answer is coming" not in twiml
    assert spool.llen(SPOOL_KEY) + spool.llen(PROCESSING_KEY) == 4
    assert not InboundMessage.objects.exists()
    kept = redis_contents(spool)
    for secret in ("5165550101", "5165550102", "5165550103", "hola", "policia", "11550"):
        assert secret not in kept


def test_when_the_database_is_back_the_spooled_texts_are_recorded_and_answered_in_order(
    client, spool
):
    # Each answer depends on the one before: "3" picks from the language menu "0" opened.
    texts = {ANA: ["hello", "0", "3", "help"], BAO: ["hola necesito ayuda", "ayuda"]}
    with database_unreachable():
        for index in range(4):
            for number, bodies in texts.items():
                if index < len(bodies):
                    text(client, number, bodies[index])
    assert spool.llen(SPOOL_KEY) + spool.llen(PROCESSING_KEY) == 6
    assert locmem.outbox == []

    assert inbound_spool_drain_task.apply().get() == 6
    for number, bodies in texts.items():
        assert sent_to(number) == expected_replies(bodies), number
    assert set(InboundMessage.objects.values_list("outcome", flat=True)) == {"answered"}
    assert InboundMessage.objects.count() == 6
    # Drained is drained: nothing is recorded or sent again.
    sent = len(locmem.outbox)
    assert inbound_spool_drain_task.apply().get() == 0
    assert len(locmem.outbox) == sent and InboundMessage.objects.count() == 6


def test_a_text_arriving_while_spooled_ones_wait_is_answered_after_them(client, spool):
    with database_unreachable():
        text(client, ANA, "hello")
        text(client, ANA, "0")
    # The database is back, but the two texts are not recorded yet: the third must not
    # overtake them ("3" means nothing before "0" opened the language menu).
    twiml, _sid = text(client, ANA, "3")
    assert "<Message>" not in twiml
    inbound_spool_drain_task.apply()
    assert sent_to(ANA) == expected_replies(["hello", "0", "3"])
    assert spool.llen(SPOOL_KEY) == 0 and spool.llen(PROCESSING_KEY) == 0


def test_a_drain_that_dies_after_recording_a_text_loses_nothing_and_answers_it_once(client, spool):
    with database_unreachable():
        text(client, ANA, "hello")
        text(client, BAO, "hola necesito ayuda")

    def worker_dies(inbound_id):
        raise SystemExit("the worker died between the commit and the hand-off")

    with pytest.raises(SystemExit):
        inbound_spool_drain(answer=worker_dies)
    # Ana's text is recorded, still pending, and still in the processing list.
    assert list(InboundMessage.objects.values_list("outcome", flat=True)) == ["pending"]
    assert spool.llen(PROCESSING_KEY) == 1 and spool.llen(SPOOL_KEY) == 1
    assert locmem.outbox == []

    inbound_spool_drain_task.apply()
    assert sent_to(ANA) == expected_replies(["hello"])
    assert sent_to(BAO) == expected_replies(["hola necesito ayuda"])
    assert InboundMessage.objects.count() == 2
    assert spool.llen(PROCESSING_KEY) == 0 and spool.llen(SPOOL_KEY) == 0


def test_with_the_database_and_redis_down_the_resident_is_asked_to_send_it_again(
    client, settings, caplog
):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    with database_unreachable(), caplog.at_level(logging.ERROR):
        twiml, sid = text(client, ANA, "hola necesito ayuda con la policia")
    assert "Lo sentimos, nuestro servicio no funciona ahora." in twiml
    assert f"SMS {sid} could not be kept" in caplog.text
    assert "5550101" not in caplog.text and "policia" not in caplog.text
