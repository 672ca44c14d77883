"""Delivery through real Celery workers on Redis, against the fake Twilio server.

A worker killed mid-send (its process, or the whole worker), a message re-queued while its
task still runs, Redis restarted during a burst, a burst of 429s under residents' replies,
and a thousand messages through two workers: every message reaches the fake Twilio exactly
once, at no more than the pace, and each resident's replies in the order they were written.
"""

import os
import signal
import time
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.core.cache import cache
from django.db import connection

from assistant.delivery.leases import lease_release
from assistant.delivery.services import outbound_queue, outbound_requeue_stale, replies_dispatch
from assistant.models import OutboundMessage
from tests.support.services import wait_for

pytestmark = pytest.mark.celery_worker
Status = OutboundMessage.Status


def numbers(count: int) -> list[str]:
    return [f"+1555{index:07d}" for index in range(count)]


def statuses() -> dict[str, int]:
    counts: dict[str, int] = {}
    for status in OutboundMessage.objects.values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    return counts


def waiting() -> list[tuple]:
    """Return the id, status, attempts and last error of every message not sent yet."""
    return list(
        OutboundMessage.objects.exclude(status=Status.SENT).values_list(
            "pk", "status", "attempts", "outcome_unknown", "last_error_message"
        )
    )


def assert_each_sent_exactly_once(fake_twilio, expected: int) -> None:
    bodies = [m["body"] for m in fake_twilio.accepted]
    assert len(bodies) == expected, f"{len(bodies)} sends for {expected} messages"
    assert len(set(bodies)) == expected, "a message was sent twice"
    sids = set(OutboundMessage.objects.values_list("twilio_sid", flat=True))
    assert sids == {m["sid"] for m in fake_twilio.accepted}


def test_transient_errors_are_retried_by_the_worker_until_sent(
    start_celery_worker, twilio_env, fake_twilio
):
    start_celery_worker(**twilio_env)
    fake_twilio.script("429", "500")
    message = outbound_queue(to="+15551230001", body="Retry me.")
    wait_for(
        lambda: OutboundMessage.objects.get(pk=message.pk).status == Status.SENT,
        timeout=40,
        message="the message was not sent after a 429 and a 500",
    )
    message.refresh_from_db()
    assert message.attempts == 3
    assert [answer for _t, answer in fake_twilio.requests] == ["429", "500", "ok"]
    assert_each_sent_exactly_once(fake_twilio, 1)


def test_a_permanent_error_through_the_worker_fails_once(
    start_celery_worker, twilio_env, fake_twilio
):
    from assistant.models import OptOut

    start_celery_worker(**twilio_env)
    fake_twilio.script("21610")
    message = outbound_queue(to="+15551230001", body="Stop means stop.")
    wait_for(lambda: OutboundMessage.objects.get(pk=message.pk).status == Status.FAILED)
    time.sleep(1)  # a wrongly scheduled retry would show up here
    assert len(fake_twilio.requests) == 1
    assert OptOut.objects.filter(source=OptOut.Source.CARRIER).count() == 1


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def test_a_worker_killed_mid_send_sends_exactly_once(start_celery_worker, twilio_env, fake_twilio):
    worker = start_celery_worker(**{**twilio_env, "TWILIO_TIMEOUT_SECONDS": "5"})
    fake_twilio.script("hang")  # Twilio takes the message; its answer never arrives
    message = outbound_queue(to="+15551230001", body="Sent once, whatever happens.")
    wait_for(lambda: fake_twilio.accepted, timeout=20, message="the send never started")
    (child,) = _children(worker.process.pid)
    os.kill(child, signal.SIGKILL)
    fake_twilio.release.set()
    wait_for(
        lambda: OutboundMessage.objects.get(pk=message.pk).status == Status.SENT,
        timeout=40,
        message="the redelivered message was never settled",
    )
    message.refresh_from_db()
    assert message.twilio_sid == fake_twilio.accepted[0]["sid"]
    assert message.attempts == 1
    assert len(fake_twilio.requests) == 1
    assert_each_sent_exactly_once(fake_twilio, 1)


def test_a_whole_worker_killed_mid_send_is_taken_up_by_another_within_seconds_once(
    start_celery_worker, twilio_env, fake_twilio
):
    env = {**twilio_env, "TWILIO_TIMEOUT_SECONDS": "3"}
    worker = start_celery_worker(**env)
    fake_twilio.script("hang")  # Twilio takes the message; its answer never arrives
    message = outbound_queue(to="+15551230001", body="Taken up by the next worker.")
    wait_for(lambda: fake_twilio.accepted, timeout=60, message="the send never started")
    # The whole worker dies at once: nothing goes back to Redis before its visibility
    # timeout (hours). Only the message's lease tells that its task is gone.
    os.killpg(worker.process.pid, signal.SIGKILL)
    worker.process.wait()
    killed = time.monotonic()
    fake_twilio.release.set()
    start_celery_worker(**env)

    def settled():
        outbound_requeue_stale()  # what beat does every SMS_REQUEUE_EVERY_SECONDS
        return OutboundMessage.objects.get(pk=message.pk).status == Status.SENT

    wait_for(
        settled,
        timeout=120,
        interval=1,
        message=lambda: f"never taken up: {OutboundMessage.objects.filter(pk=message.pk).values()}",
    )
    print(f"\ntaken up and settled {time.monotonic() - killed:.1f} s after the kill")
    message.refresh_from_db()
    assert message.twilio_sid == fake_twilio.accepted[0]["sid"]  # found, not sent again
    assert (message.attempts, message.lookups) == (1, 1)
    assert len(fake_twilio.requests) == 1
    assert_each_sent_exactly_once(fake_twilio, 1)


def test_a_message_requeued_while_its_task_still_runs_is_sent_once(
    start_celery_worker, twilio_env, fake_twilio
):
    worker = start_celery_worker(concurrency=2, **{**twilio_env, "TWILIO_TIMEOUT_SECONDS": "10"})
    fake_twilio.hang_seconds = 3  # Twilio answers, slowly
    fake_twilio.script("hang")
    message = outbound_queue(to="+15551230001", body="One task too many.")
    wait_for(lambda: fake_twilio.accepted, timeout=60, message="the send never started")
    # Its lease lost (a cache flushed, say): the next look for stranded work re-queues it
    # while the first task is still waiting for Twilio's answer.
    lease_release(message.pk)
    assert outbound_requeue_stale(older_than=timedelta(0)) == 1
    wait_for(
        lambda: worker.log().count("'already-sent'") >= 1,
        timeout=90,
        message=lambda: f"the second task never finished:\n{worker.log()[-3000:]}",
    )
    message.refresh_from_db()
    assert message.status == Status.SENT and message.attempts == 1
    assert len(fake_twilio.requests) == 1
    assert_each_sent_exactly_once(fake_twilio, 1)


def received_by(fake_twilio, number: str) -> list[str]:
    return [
        m["body"]
        for m in sorted(fake_twilio.accepted, key=lambda m: m["time"])
        if m["to"] == number
    ]


def test_replies_reach_twilio_in_order_through_a_burst_of_429s(
    start_celery_worker, twilio_env, fake_twilio
):
    start_celery_worker(concurrency=2, **twilio_env)
    start_celery_worker(concurrency=2, **twilio_env)
    # Twilio refuses the first 60 requests as too fast (20429), more than SMS_RETRY_MAX_ATTEMPTS
    # (4) for some replies, then takes every one.
    fake_twilio.script(*["429"] * 60)
    written: dict[str, list[str]] = {}
    for turn in range(2):  # each resident texts twice; each text gets three replies
        for number in numbers(10):
            bodies = [f"Turn {turn}, reply {index}." for index in range(3)]
            replies_dispatch(to=number, bodies=bodies, language="en")
            written.setdefault(number, []).extend(bodies)
    total = sum(len(bodies) for bodies in written.values())

    def settled():
        outbound_requeue_stale()  # beat runs it all along; it must not reorder anything
        return len(fake_twilio.accepted) >= total or statuses().get(Status.FAILED)

    wait_for(settled, timeout=240, interval=1, message=lambda: f"not all sent: {statuses()}")
    assert statuses() == {Status.SENT: total}
    for number, bodies in written.items():
        assert received_by(fake_twilio, number) == bodies, number
    assert len(fake_twilio.accepted) == total
    refused = [answer for _t, answer in fake_twilio.requests].count("429")
    most = max(OutboundMessage.objects.values_list("rate_limits", flat=True))
    print(f"\n{refused} requests refused as too fast; at most {most} for one reply")


def test_a_thousand_messages_from_two_workers_keep_to_the_pace(
    start_celery_worker, twilio_env, fake_twilio, settings
):
    pace = 50
    redis.Redis.from_url(settings.REDIS_URL).delete(f"kyp:pace:{settings.TWILIO_FROM_NUMBER}")
    env = {**twilio_env, "SMS_PACE_DEFAULT": str(pace)}
    start_celery_worker(concurrency=2, **env)
    start_celery_worker(concurrency=2, **env)
    for index, number in enumerate(numbers(1000)):
        outbound_queue(to=number, body=f"Message {index}.")
    wait_for(
        lambda: statuses().get(Status.SENT) == 1000,
        timeout=90,
        interval=1,
        message=f"not all sent: {statuses()}",
    )
    assert_each_sent_exactly_once(fake_twilio, 1000)
    times = sorted(m["time"] for m in fake_twilio.accepted)
    busiest = max(
        sum(1 for t in times[i : i + pace + 10] if t < start + 1.0) for i, start in enumerate(times)
    )
    print(f"busiest one-second window: {busiest} segments (pace {pace})")
    # The pace is kept where the workers take their turns, 1/pace s apart; the fake Twilio
    # notes each message when its request has arrived, a few milliseconds later and not
    # always the same few. So any pace + 1 messages in a row span a second, less that
    # jitter: an unpaced burst would put them within a fraction of it.
    jitter = 0.1
    tightest = min(times[i + pace] - times[i] for i in range(len(times) - pace))
    assert tightest >= 1.0 - jitter, f"{pace + 1} messages reached Twilio within {tightest:.3f} s"
    assert (times[-1] - times[0]) >= (1000 - 1) / pace - 0.5


def test_redis_restarted_during_a_burst_delivers_every_message_once(
    start_celery_worker, twilio_env, fake_twilio, private_redis, settings
):
    from config.celery import app

    settings.REDIS_URL = private_redis.url
    # One Redis for the broker and the cache, as in production: the delivery leases are
    # in the cache, and a restart that loses the queues loses them too.
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "LOCATION": private_redis.url},
    }
    app.conf.broker_url = private_redis.url
    app._pool = None  # the producer pool connects to the private Redis from now on
    app.amqp._producer_pool = None
    try:
        worker = start_celery_worker(concurrency=2, REDIS_URL=private_redis.url, **twilio_env)
        for index, number in enumerate(numbers(200)):
            outbound_queue(to=number, body=f"Burst {index}.")
        wait_for(lambda: len(fake_twilio.accepted) >= 40, timeout=30)
        private_redis.stop()
        time.sleep(1)
        private_redis.start()

        def settled():
            # What beat does every few seconds: re-queue what the restart stranded.
            outbound_requeue_stale()
            return statuses().get(Status.SENT) == 200

        def state() -> str:
            broker = redis.Redis.from_url(private_redis.url)
            lengths = {q: broker.llen(q) for q in ("replies", "celery", "ae.undeliver")}
            waiting = OutboundMessage.objects.exclude(status=Status.SENT)
            leases = {
                m.pk: (m.status, m.attempts, broker.ttl(cache.make_key(f"delivery:lease:{m.pk}")))
                for m in waiting
            }
            logs = worker.log()[-4000:]
            return (
                f"not all sent: {statuses()}; broker queues {lengths}; unacked "
                f"{broker.hlen('unacked')}; unsent (status, attempts, lease ttl) {leases}\n{logs}"
            )

        wait_for(settled, timeout=90, interval=2, message=state)
        assert_each_sent_exactly_once(fake_twilio, 200)
    finally:
        app.conf.broker_url = os.environ["REDIS_URL"]
        app._pool = None
        app.amqp._producer_pool = None


def test_workers_survive_a_broker_outage_and_send_every_message_once(
    start_celery_worker, twilio_env, fake_twilio, on_private_redis
):
    """Redis stops for a few seconds while two workers hold running, prefetched and
    countdown tasks (pacing defers most messages): both reconnect on their own, put back what
    they held, and every message reaches Twilio exactly once, without beat's re-queueing."""
    env = {
        **twilio_env,
        "REDIS_URL": on_private_redis.url,
        "SMS_PACE_DEFAULT": "10",
        "SMS_PACE_MAX_WAIT_SECONDS": "0.5",
    }
    workers = [start_celery_worker(concurrency=2, **env) for _ in range(2)]
    for index, number in enumerate(numbers(80)):
        outbound_queue(to=number, body=f"Outage {index}.")
    wait_for(lambda: len(fake_twilio.accepted) >= 15, timeout=30)
    on_private_redis.stop()
    time.sleep(5)
    on_private_redis.start()
    wait_for(
        lambda: statuses().get(Status.SENT) == 80,
        timeout=120,
        interval=1,
        message=lambda: f"not all sent: {statuses()}; waiting: {waiting()}",
    )
    for worker in workers:
        log = worker.log()
        assert worker.process.poll() is None, log
        assert "Unrecoverable error" not in log, log
    assert_each_sent_exactly_once(fake_twilio, 80)


def test_a_worker_keeps_its_database_connection_from_task_to_task(
    start_celery_worker, twilio_env, fake_twilio
):
    """Celery's Django fix-up would open a new PostgreSQL session for every task (a quarter of
    a worker's time in a large alert); a worker keeps one per process, as a web process does."""

    def sessions_opened() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
            )
            return cursor.fetchone()[0]

    start_celery_worker(**twilio_env)  # one process
    outbound_queue(to="+15551230000", body="Warm-up.")
    wait_for(lambda: len(fake_twilio.accepted) == 1, timeout=30)
    before = sessions_opened()
    for index, number in enumerate(numbers(30)):
        outbound_queue(to=number, body=f"Session {index}.")
    wait_for(lambda: statuses().get(Status.SENT) == 31, timeout=60, message=statuses)
    time.sleep(1.5)  # a backend's counters reach pg_stat_database within a second
    opened = sessions_opened() - before
    assert opened <= 3, f"{opened} database sessions opened for 30 messages"
