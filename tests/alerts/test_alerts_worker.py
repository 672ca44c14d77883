"""A 10,000-subscriber alert through a real Celery worker: none missed, none doubled.

Counted at the fake Twilio server. Also a whole worker killed (SIGKILL) mid-alert and a new
one started.
"""

import os
import signal
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group

from assistant.alerts.services import alert_approve, alert_create_from_flag
from assistant.alerts.tasks import alert_requeue_stale
from assistant.delivery.services import outbound_requeue_stale
from assistant.models import Alert, AlertDelivery, OutboundMessage, ReviewFlag, Subscription
from assistant.privacy import encrypt, phone_hash
from tests.factories import UserFactory, place
from tests.support.services import wait_for

pytestmark = pytest.mark.celery_worker


def make_alert(count: int) -> Alert:
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
    wait_for(
        lambda: Alert.objects.get(pk=alert.pk).status == Alert.Status.SENT,
        timeout=300,
        interval=0.5,
        message="the alert was never fully queued",
    )
    queued_after = time.monotonic() - started
    wait_for(
        lambda: len(fake_twilio.accepted) >= count,
        timeout=300,
        interval=0.5,
        message=f"only {len(fake_twilio.accepted)} of {count} reached Twilio",
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


def test_a_worker_killed_mid_alert_then_replaced_sends_nobody_a_second_copy(
    start_celery_worker, twilio_env, fake_twilio, loaded_places
):
    count = 3_000
    worker = start_celery_worker(concurrency=2, **twilio_env)
    alert = make_alert(count)
    wait_for(
        lambda: len(fake_twilio.accepted) >= 100,  # well into the alert
        timeout=60,
        interval=0.05,
        message="the alert never started",
    )
    # The whole worker, main process and pool, dies at once: nothing is handed back to Redis.
    os.killpg(worker.process.pid, signal.SIGKILL)
    worker.process.wait()
    partial = AlertDelivery.objects.filter(alert=alert).count()
    reached = len(fake_twilio.accepted)
    assert partial < count
    assert reached < count
    start_celery_worker(concurrency=2, **twilio_env)

    def settled():
        # What beat's requeue_stale does every minute, sooner.
        alert_requeue_stale(older_than=timedelta(seconds=3))
        outbound_requeue_stale(older_than=timedelta(seconds=10))
        return len(fake_twilio.accepted) >= count

    wait_for(
        settled,
        timeout=240,
        interval=3,
        message=f"only {len(fake_twilio.accepted)} of {count} reached Twilio",
    )
    time.sleep(3)  # a second copy sent late would show up here
    print(f"\nkilled with {partial} queued and {reached} at Twilio; all {count} sent once")
    assert_each_subscriber_got_it_once(fake_twilio, count)
    assert AlertDelivery.objects.filter(alert=alert).count() == count
    alert.refresh_from_db()
    assert alert.status == Alert.Status.SENT
