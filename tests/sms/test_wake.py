"""Waking the workers (assistant.sms.wake): one drain task per shard of residents, and no text
left behind when a drain ends just as a text comes in."""

import uuid

import pytest
import redis
from django.test import Client

from assistant.models import InboundMessage
from assistant.privacy import phone_hash
from assistant.sms.wake import inbound_shard_drain, inbound_wake_claim, shard_of
from tests.sms.test_inbound_worker import expected_replies, received_by, text
from tests.support.services import wait_for


@pytest.fixture
def webhook_settings(settings, twilio_env):
    settings.TWILIO_AUTH_TOKEN = twilio_env["TWILIO_AUTH_TOKEN"]
    return twilio_env


@pytest.mark.celery_worker
def test_a_burst_asks_for_one_drain_per_shard_and_the_drains_answer_every_text(
    start_celery_worker, webhook_settings, fake_twilio, loaded_places, redis_url
):
    from config.celery import app

    app.conf.task_always_eager = False  # as with a worker, but none is started yet
    numbers = [f"+1516556{index:04d}" for index in range(48)]
    client = Client()
    for number in numbers:
        text(client, number, "hola necesito ayuda")
    shards = {shard_of(phone_hash(number)) for number in numbers}
    assert 1 < len(shards) <= 16
    # One task per shard waits in the queue, not one per text.
    assert redis.Redis.from_url(redis_url).llen("replies") == len(shards)

    start_celery_worker(concurrency=2, **webhook_settings)
    start_celery_worker(concurrency=2, **webhook_settings)
    expected = expected_replies(["hola necesito ayuda"])
    wait_for(
        lambda: len(fake_twilio.accepted) >= len(numbers),
        timeout=90,
        interval=0.5,
        message=f"{len(fake_twilio.accepted)} of {len(numbers)} replies",
    )
    for number in numbers:
        assert received_by(fake_twilio, number) == expected, number
    assert len(fake_twilio.accepted) == len(numbers), "a reply was sent twice"
    assert not InboundMessage.objects.filter(outcome=InboundMessage.Outcome.PENDING).exists()


def test_a_text_recorded_while_a_drain_runs_is_answered_by_it_and_the_next_asks_again(
    settings, transactional_db, loaded_places, redis_url
):
    from config.celery import app

    settings.TWILIO_AUTH_TOKEN = "test-auth-token-for-signatures"
    settings.SMS_BACKEND = "assistant.delivery.backends.locmem.LocmemBackend"
    app.conf.task_always_eager = False
    queue = redis.Redis.from_url(redis_url)
    number = "+15165550142"
    shard = shard_of(phone_hash(number))
    # A drain of this shard is running: the webhook records the text and asks for nothing.
    assert inbound_wake_claim(phone_hash(number)) == shard
    response = text(Client(), number, "hola necesito ayuda")
    assert response.content.decode().strip().endswith("<Response />")
    assert queue.llen("replies") == 0
    assert InboundMessage.objects.get().outcome == InboundMessage.Outcome.PENDING

    # That drain answers it before it ends, and lets the shard's flag go.
    assert inbound_shard_drain(shard) == (1, False)
    assert InboundMessage.objects.get().outcome == InboundMessage.Outcome.ANSWERED
    # So the resident's next text asks for a new drain.
    text(Client(), number, "11550")
    assert queue.llen("replies") == 1


@pytest.mark.celery_worker
def test_a_text_whose_drain_was_lost_gets_one_from_beat(
    start_celery_worker, webhook_settings, fake_twilio, loaded_places, settings
):
    from assistant.sms.services import inbound_accept
    from assistant.sms.tasks import inbound_requeue

    start_celery_worker(**webhook_settings)
    number = "+15165550143"
    # Recorded, and no drain asked for: its webhook was killed before, or the drain was lost.
    inbound_accept(sid="SM" + uuid.uuid4().hex, from_number=number, body="hola necesito ayuda")
    settings.INBOUND_REQUEUE_AFTER_SECONDS = 0
    assert inbound_requeue() == 1  # what beat runs every 10 seconds
    assert inbound_requeue() == 0  # its drain is queued or done: not asked for twice
    expected = expected_replies(["hola necesito ayuda"])
    wait_for(lambda: received_by(fake_twilio, number) == expected, timeout=60)
    assert not InboundMessage.objects.filter(outcome=InboundMessage.Outcome.PENDING).exists()
