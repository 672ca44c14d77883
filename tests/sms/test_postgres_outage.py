"""PostgreSQL stopped under the webhook and the workers: every text is kept and answered, in
order, once it is back; a task that met the outage is tried again, and no reply goes twice.

A PostgreSQL cluster of the test's own (a copy of the test database) that the test stops and
starts, the site under gunicorn and a real Celery worker both on it, Redis, and the fake
Twilio server: what reaches it for a number is what that resident's phone would show.
"""

import json
import os
import re
import uuid
from http.client import HTTPConnection
from urllib.parse import urlencode

import psycopg
import pytest
import redis

from tests.sms.test_inbound_worker import expected_replies, received_by
from tests.sms_signing import twilio_signature
from tests.support.services import PrivatePostgres, WebProcess, wait_for, worker_database_url

pytestmark = pytest.mark.celery_worker

PATH = "/sms/inbound"
RESIDENTS = [f"+1516555{index:04d}" for index in range(6)]
# Each answer depends on the one before: out of order, "1" would find no place yet.
BEFORE, DURING, AFTER = ["hola necesito ayuda"], ["11550", "1", "2"], ["3"]


@pytest.fixture
def private_postgres(postgres, transactional_db, loaded_places):
    """A private cluster holding a copy of the test database (places included)."""
    cluster = PrivatePostgres()
    try:
        cluster.start()
        cluster.copy_database(worker_database_url())
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture
def site(private_postgres, twilio_env, redis_url, settings, tmp_path):
    """The site under gunicorn on the private cluster; requests are signed for its origin."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    env.update(
        {
            "DEBUG": "true",
            "DATABASE_URL": private_postgres.url,
            "REDIS_URL": redis_url,
            **twilio_env,
        }
    )
    web = WebProcess(env, tmp_path / "web.log")
    try:
        web.wait_ready()
        settings.PUBLIC_BASE_URL = web.url
        settings.TWILIO_AUTH_TOKEN = twilio_env["TWILIO_AUTH_TOKEN"]
        yield web
    finally:
        web.stop()


def request(web, method: str, path: str, params=None, headers=None) -> tuple[int, str]:
    connection = HTTPConnection("127.0.0.1", web.port, timeout=30)
    body = urlencode(params) if params else None
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def text(web, number: str, body: str, sid: str | None = None) -> tuple[int, str, str]:
    """POST a signed text to the webhook; return the status, the TwiML and the sid."""
    params = {
        "MessageSid": sid or "SM" + uuid.uuid4().hex,
        "AccountSid": "AC" + "0" * 32,
        "From": number,
        "To": "+15005550006",
        "Body": body,
        "NumMedia": "0",
    }
    headers = {
        "X-Twilio-Signature": twilio_signature(PATH, params),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    status, twiml = request(web, "POST", PATH, params, headers)
    return status, twiml, params["MessageSid"]


def finished(worker, task: str) -> int:
    """Return how many runs of ``task`` the worker finished (whatever their outcome)."""
    return len(
        re.findall(rf"Task assistant\.tasks\.{task}\[[^]]+\] (succeeded|raised)", worker.log())
    )


def unsettled_replies(cluster) -> int:
    """Return how many replies in the private cluster are still queued or sending."""
    with psycopg.connect(cluster.url.replace("postgres://", "postgresql://")) as db:
        query = "SELECT count(*) FROM assistant_outboundmessage WHERE status IN (%s, %s)"
        return db.execute(query, ("queued", "sending")).fetchone()[0]


def health(web) -> tuple[int, dict]:
    status, body = request(web, "GET", "/healthz")
    return status, json.loads(body)


def test_texts_sent_while_postgresql_is_stopped_are_kept_and_answered_in_order_once_it_is_back(
    start_celery_worker, twilio_env, fake_twilio, private_postgres, site, redis_url
):
    start_celery_worker(
        concurrency=2, DATABASE_URL=private_postgres.url, PUBLIC_BASE_URL=site.url, **twilio_env
    )
    for number in RESIDENTS:
        status, twiml, _sid = text(site, number, BEFORE[0])
        assert status == 200 and "<Message>" not in twiml
    before = expected_replies(BEFORE)
    wait_for(
        lambda: all(len(received_by(fake_twilio, n)) >= len(before) for n in RESIDENTS),
        timeout=60,
        message=lambda: f"{len(fake_twilio.accepted)} replies before the outage",
    )

    private_postgres.stop()
    spooled_sids = []
    for body in DURING:
        for number in RESIDENTS:
            status, twiml, sid = text(site, number, body)
            assert status == 200, twiml
            spooled_sids.append(sid)
            if body == DURING[0]:
                # "11550" says nothing of a language: English, then Spanish.
                assert "<Message>We got your message. Your answer is coming" in twiml
                assert "Recibimos su mensaje" in twiml
            else:
                assert "<Message>" not in twiml  # told once is enough
    # Twilio's retry (or its fallback URL) of a text already kept is not kept twice.
    status, twiml, _sid = text(site, RESIDENTS[0], DURING[0], sid=spooled_sids[0])
    assert status == 200 and "<Message>" not in twiml
    status, body = health(site)
    assert status == 503
    assert body["database"] == "down" and body["broker"] == "ok"
    assert body["sms_spool"] == len(DURING) * len(RESIDENTS)
    assert len(fake_twilio.accepted) == len(before) * len(RESIDENTS)

    private_postgres.start()
    # The next text notices the spool, joins its end and asks a worker to drain it.
    for number in RESIDENTS:
        status, twiml, _sid = text(site, number, AFTER[0])
        assert status == 200 and "<Message>" not in twiml
    expected = expected_replies(BEFORE + DURING + AFTER)
    wait_for(
        lambda: all(len(received_by(fake_twilio, n)) >= len(expected) for n in RESIDENTS),
        timeout=90,
        interval=0.5,
        message=lambda: f"{len(fake_twilio.accepted)} of {len(expected) * len(RESIDENTS)} replies",
    )
    for number in RESIDENTS:
        assert received_by(fake_twilio, number) == expected, number
    assert len(fake_twilio.accepted) == len(expected) * len(RESIDENTS), "a reply went twice"
    client = redis.Redis.from_url(redis_url)
    assert client.llen("sms:spool") == 0 and client.llen("sms:spool:processing") == 0
    status, body = health(site)
    assert status == 200 and body["database"] == "ok" and body["sms_spool"] == 0


def test_a_text_and_a_reply_whose_tasks_met_the_outage_are_tried_again_and_sent_once(
    start_celery_worker, twilio_env, fake_twilio, private_postgres, site
):
    # One worker process, and Twilio taking Ana's reply without answering for 5 s: while it
    # waits, Bao's text queues behind it, and PostgreSQL stops under both tasks.
    worker = start_celery_worker(
        concurrency=1,
        DATABASE_URL=private_postgres.url,
        PUBLIC_BASE_URL=site.url,
        **{**twilio_env, "TWILIO_TIMEOUT_SECONDS": "5"},
    )
    ana, bao = RESIDENTS[:2]
    fake_twilio.script("hang")
    assert text(site, ana, BEFORE[0])[0] == 200
    wait_for(lambda: fake_twilio.requests, timeout=60, message="Ana's reply never left")
    assert text(site, bao, BEFORE[0])[0] == 200
    private_postgres.stop()
    # Ana's delivery gives up waiting for Twilio, then the drain looks for Bao's text: both
    # meet the outage (Ana's drain, then Bao's or its retry).
    wait_for(
        lambda: finished(worker, "inbound_drain") >= 2,
        timeout=60,
        message=lambda: f"the tasks did not meet the outage:\n{worker.log()[-3000:]}",
    )
    private_postgres.start()
    expected = expected_replies(BEFORE)
    wait_for(
        lambda: all(len(received_by(fake_twilio, n)) >= len(expected) for n in (ana, bao)),
        timeout=90,
        interval=0.5,
        message=lambda: f"{len(fake_twilio.accepted)} of {2 * len(expected)} replies",
    )
    # Ana's reply was taken by Twilio once: looked up after the outage, never sent again,
    # and recorded as sent rather than left "sending" for requeue_stale, minutes later.
    wait_for(lambda: not unsettled_replies(private_postgres), timeout=60, interval=0.5)
    assert received_by(fake_twilio, ana) == expected
    assert received_by(fake_twilio, bao) == expected
    assert len(fake_twilio.accepted) == 2 * len(expected)
