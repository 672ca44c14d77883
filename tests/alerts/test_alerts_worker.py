"""A 10,000-subscriber alert through a real Celery worker: none missed, none doubled.

Counted at the fake Twilio server. Also a whole worker killed (SIGKILL) mid-alert and a new
one started.
"""

import contextlib
import os
import signal
import time
from collections import Counter
from datetime import timedelta

import psycopg
import pytest
from django.contrib.auth.models import Group

from assistant.alerts.sending import SEND_BATCH
from assistant.alerts.services import alert_approve, alert_create_from_flag
from assistant.alerts.tasks import alert_requeue_stale
from assistant.delivery.services import outbound_requeue_stale
from assistant.models import Alert, AlertDelivery, OutboundMessage, ReviewFlag, Subscription
from assistant.privacy import encrypt, phone_hash
from tests.factories import UserFactory, place
from tests.support.services import wait_for, worker_database_url

pytestmark = pytest.mark.celery_worker


def make_alert(count: int) -> Alert:
    subscribe(count)
    return approve_alert()


def subscribe(count: int) -> None:
    county = place("NY", "Nassau County")
    languages = ["en", "es", "zh-hans", "vi"]
    numbers = [f"+1516{index:07d}" for index in range(count)]
    Subscription.objects.bulk_create(
        [
            Subscription(
                number_encrypted=encrypt(number),
                phone_hash=phone_hash(number),
                place=county,
                language=languages[index % len(languages)],
            )
            for index, number in enumerate(numbers)
        ],
        batch_size=2000,
    )


def approve_alert() -> Alert:
    county = place("NY", "Nassau County")
    flag = ReviewFlag.objects.create(place=county, reason=ReviewFlag.Reason.ANSWER_CHANGED)
    author = UserFactory(username="author")
    reviewer = UserFactory(username="reviewer")
    reviewer.groups.add(Group.objects.get_or_create(name="Reviewer")[0])
    alert = alert_create_from_flag(flag=flag, user=author)
    alert_approve(alert=alert, user=reviewer)  # committed: the task goes to the worker
    return alert


def assert_each_subscriber_got_it_once(fake_twilio, count: int) -> None:
    per_number = Counter(message["to"] for message in fake_twilio.accepted)
    assert len(per_number) == count, f"{count - len(per_number)} subscriber(s) missed"
    doubled = [number for number, times in per_number.items() if times > 1]
    assert doubled == [], f"{len(doubled)} subscriber(s) got a second copy"


def test_ten_thousand_subscribers_each_get_the_alert_once_in_their_language(
    start_celery_worker, twilio_env, fake_twilio, loaded_places
):
    count = 10_000
    start_celery_worker(concurrency=4, **twilio_env)
    alert = make_alert(count)
    started = time.monotonic()
    # Bounds, not goals: how fast an alert goes out is measured in bench/, not here.
    wait_for(
        lambda: Alert.objects.get(pk=alert.pk).status == Alert.Status.SENT,
        timeout=900,
        interval=0.5,
        message="the alert was never fully queued",
    )
    queued_after = time.monotonic() - started
    wait_for(
        lambda: len(fake_twilio.accepted) >= count,
        timeout=900,
        interval=0.5,
        message=lambda: f"only {len(fake_twilio.accepted)} of {count} reached Twilio",
    )
    all_after = time.monotonic() - started
    times = sorted(message["time"] for message in fake_twilio.accepted)
    print(
        f"\n{count} subscribers: all queued after {queued_after:.1f}s, all at Twilio after "
        f"{all_after:.1f}s; {count / (times[-1] - times[0]):.0f} messages/s between the first "
        f"and the last"
    )
    time.sleep(2)  # a second copy sent late would show up here
    assert_each_subscriber_got_it_once(fake_twilio, count)
    alert.refresh_from_db()
    assert alert.status == Alert.Status.SENT
    bodies = Counter(message["body"][:12] for message in fake_twilio.accepted)
    assert len(bodies) == 4, bodies  # one text per language
    assert OutboundMessage.objects.filter(purpose="alert").count() == count


@contextlib.contextmanager
def subscriber_locked(subscription: Subscription):
    """Hold a row lock on ``subscription`` from a second connection; yield a "who waits" check.

    ``alert_send`` writes an AlertDelivery row per subscriber; committing one that points at
    this subscriber needs a share lock on its row (the foreign key check), so the batch that
    holds it waits here until the lock is released. The check returns how many database
    sessions are waiting for this lock.
    """
    table = Subscription._meta.db_table
    with psycopg.connect(worker_database_url()) as connection:
        connection.execute(f'SELECT 1 FROM "{table}" WHERE id = %s FOR UPDATE', [subscription.pk])

        def waiting() -> int:
            # pg_locks, not pg_stat_activity: the latter is read once per transaction.
            return connection.execute(
                "SELECT count(DISTINCT pid) FROM pg_locks"
                " WHERE NOT granted AND pg_backend_pid() = ANY(pg_blocking_pids(pid))"
            ).fetchone()[0]

        yield waiting
        connection.rollback()


def test_a_worker_killed_mid_alert_then_replaced_sends_nobody_a_second_copy(
    start_celery_worker, twilio_env, fake_twilio, loaded_places
):
    count = 3_000
    # A deliver task the killed worker had already fetched from Redis, but not yet marked as
    # received, keeps the lease of a task waiting on the queue (SMS_REQUEUE_AFTER_SECONDS,
    # 600 s by default) and is re-queued only when it ends: once, under load, that was the
    # whole of this test's wait. A shorter one keeps the recovery within the wait below.
    env = {**twilio_env, "SMS_REQUEUE_AFTER_SECONDS": "120"}
    worker = start_celery_worker(concurrency=2, **env)
    subscribe(count)
    # The kill must land mid-alert however loaded the machine is (a fast worker used to
    # finish queuing before a kill timed by a message count): a subscriber of the third
    # batch is locked, so alert_send commits two batches and then waits, still running.
    third_batch = Subscription.objects.order_by("pk")[2 * SEND_BATCH]
    with subscriber_locked(third_batch) as waiting:
        alert = approve_alert()
        wait_for(
            waiting, timeout=120, interval=0.1, message="alert_send never reached the third batch"
        )
        wait_for(
            lambda: len(fake_twilio.accepted) >= 100,  # the first batches are being sent
            timeout=120,
            interval=0.05,
            message="the alert's first messages never reached Twilio",
        )
        # The whole worker, main process and pool, dies at once: nothing is handed back to
        # Redis.
        os.killpg(worker.process.pid, signal.SIGKILL)
        worker.process.wait()
        partial = AlertDelivery.objects.filter(alert=alert).count()
        reached = len(fake_twilio.accepted)
        assert partial == 2 * SEND_BATCH
        assert 100 <= reached <= partial
    # Released, the killed worker's last transaction (the third batch, waiting to commit)
    # commits or not, as after a real crash; either way nobody may get a second copy.
    start_celery_worker(concurrency=2, **env)

    def settled():
        # What beat's requeue_stale does every minute, sooner.
        alert_requeue_stale(older_than=timedelta(seconds=3))
        outbound_requeue_stale(older_than=timedelta(seconds=10))
        return len(fake_twilio.accepted) >= count

    wait_for(
        settled,
        timeout=600,  # under load (other suites beside it) the new worker sent ~6 a second
        interval=3,
        message=lambda: f"only {len(fake_twilio.accepted)} of {count} reached Twilio",
    )
    time.sleep(3)  # a second copy sent late would show up here
    print(f"\nkilled with {partial} queued and {reached} at Twilio; all {count} sent once")
    assert_each_subscriber_got_it_once(fake_twilio, count)
    assert AlertDelivery.objects.filter(alert=alert).count() == count
    alert.refresh_from_db()
    assert alert.status == Alert.Status.SENT
