"""What delivery leaves behind, in one process: stranded messages re-queued, sent messages
without a final status closed from Twilio's answer (assistant/delivery/recovery.py).

The twilio library talks to the fake Twilio server over loopback; tasks run in process.
Stranded messages through real workers are in test_delivery_worker.py.
"""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from assistant.delivery.leases import lease_hold
from assistant.delivery.recovery import outbound_close_sent, outbound_requeue_stale
from assistant.delivery.sending import outbound_deliver, outbound_status_update
from assistant.delivery.services import outbound_queue
from assistant.models import OutboundMessage

pytestmark = pytest.mark.django_db
Status = OutboundMessage.Status
NUMBER = "+15551230001"


def bodies(fake_twilio) -> list[str]:
    return [m["body"] for m in fake_twilio.accepted]


def test_a_message_no_task_holds_is_requeued_at_once_and_one_held_is_left_alone(
    twilio_env, fake_twilio
):
    # Written in this test's transaction: their enqueue (on commit) never happens.
    outbound_queue(to=NUMBER, body="Lost with Redis.", purpose="alert")
    held = outbound_queue(to="+15551230002", body="Still on the queue.", purpose="alert")
    lease_hold(held.pk, 60)
    assert outbound_requeue_stale() == 0  # written this very second: its enqueue may be coming
    with time_machine.travel(timezone.now() + timedelta(seconds=6)):
        assert outbound_requeue_stale() == 1
    assert bodies(fake_twilio) == ["Lost with Redis."]
    held.refresh_from_db()
    assert held.status == Status.QUEUED


def test_only_the_first_unsent_reply_to_a_number_is_requeued(
    twilio_env, fake_twilio, django_capture_on_commit_callbacks
):
    first = outbound_queue(to=NUMBER, body="First.")
    outbound_queue(to=NUMBER, body="Second.")
    with time_machine.travel(timezone.now() + timedelta(seconds=6)):
        with django_capture_on_commit_callbacks(execute=True):
            # The second waits for the first, which hands it on once sent.
            assert outbound_requeue_stale() == 1
    first.refresh_from_db()
    assert first.status == Status.SENT
    assert bodies(fake_twilio) == ["First.", "Second."]


def test_requeue_looks_for_stranded_work_every_few_seconds(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["outbound-requeue-stranded"]
    assert entry["task"] == "assistant.tasks.outbound_requeue_stranded"
    assert entry["schedule"] <= 10
    assert settings.CELERY_BEAT_SCHEDULE["outbound-close-sent"]["task"] == (
        "assistant.tasks.outbound_close_sent"
    )


def sent(body: str, to: str = NUMBER) -> OutboundMessage:
    message = outbound_queue(to=to, body=body, purpose="alert")
    assert outbound_deliver(message_id=message.pk) == "sent"
    message.refresh_from_db()
    return message


def test_sent_messages_without_a_final_callback_are_closed_with_twilios_answer(
    twilio_env, fake_twilio, settings
):
    delivered, undelivered, silent = sent("One."), sent("Two."), sent("Three.")
    recent = sent("Four.")
    fake_twilio.statuses[delivered.twilio_sid] = ("delivered", None)
    fake_twilio.statuses[undelivered.twilio_sid] = ("undelivered", 30006)
    # Twilio itself never heard back from the carrier about the third: it still says "sent".
    assert outbound_close_sent() == 0  # none has waited SMS_SENT_CLOSE_AFTER_MINUTES yet
    OutboundMessage.objects.exclude(pk=recent.pk).update(
        updated_at=timezone.now() - timedelta(minutes=settings.SMS_SENT_CLOSE_AFTER_MINUTES + 1)
    )
    assert outbound_close_sent() == 3
    for message in (delivered, undelivered, silent, recent):
        message.refresh_from_db()
    assert delivered.status == Status.DELIVERED
    assert (undelivered.status, undelivered.last_error_code) == (Status.UNDELIVERED, 30006)
    assert silent.status == Status.SENT and silent.finished_at is not None
    assert "No final status after 60 minutes; Twilio says 'sent'" in silent.last_error_message
    for message in (delivered, undelivered, silent):
        assert message.recipient_encrypted == message.body_encrypted == ""
    assert recent.finished_at is None and recent.body_encrypted
    assert sorted(fake_twilio.fetched) == sorted(
        [delivered.twilio_sid, undelivered.twilio_sid, silent.twilio_sid]
    )
    # Closed is closed: the next run asks nothing; a late callback still moves it forward.
    assert outbound_close_sent(older_than=timedelta(0)) == 1  # only the recent one
    assert outbound_status_update(sid=silent.twilio_sid, status="delivered")


def test_closing_stops_while_twilio_cannot_be_asked(twilio_env, fake_twilio, settings):
    message = sent("One.")
    settings.TWILIO_API_BASE_URL = "http://127.0.0.1:1"  # nothing listens on port 1
    assert outbound_close_sent(older_than=timedelta(0)) == 0
    message.refresh_from_db()
    assert message.finished_at is None and message.body_encrypted
