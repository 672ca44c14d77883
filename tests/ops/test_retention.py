"""purge_expired with a frozen clock, and rotating PHONE_HASH_KEY."""

import datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from assistant.delivery.services import outbound_queue
from assistant.models import Conversation, InboundMessage, OptOut, OutboundMessage, Subscription
from assistant.privacy import encrypt, phone_hash
from assistant.sms.services import inbound_message_handle
from tests.factories import place

pytestmark = pytest.mark.django_db
START = datetime.datetime(2026, 3, 1, 12, 0, tzinfo=datetime.UTC)
NUMBER = "+15165550123"


@pytest.fixture(autouse=True)
def locmem_sms(settings):
    settings.SMS_BACKEND = "assistant.delivery.backends.locmem.LocmemBackend"


def test_purge_expired_forgets_old_state_answered_inbound_and_final_outbound(settings):
    settings.CONVERSATION_RETENTION_DAYS = 30
    with time_machine.travel(START, tick=False) as clock:
        old = Conversation.objects.create(phone_hash="a" * 64, language="es")
        answered = InboundMessage.objects.create(sid="SM1", phone_hash="a" * 64, reply_count=2)
        unanswered = InboundMessage.objects.create(sid="SM2", phone_hash="b" * 64)
        final = OutboundMessage.objects.create(
            status="delivered", recipient_encrypted=encrypt(NUMBER), body_encrypted=encrypt("x")
        )
        clock.shift(datetime.timedelta(days=29))
        recent = Conversation.objects.create(phone_hash="c" * 64)
        call_command("purge_expired")
        # Answered long enough ago: gone. Unanswered: kept for a day at most.
        assert not InboundMessage.objects.filter(pk=answered.pk).exists()
        assert Conversation.objects.filter(pk=old.pk).exists()
        final.refresh_from_db()
        assert final.recipient_encrypted == final.body_encrypted == ""
        clock.shift(datetime.timedelta(days=1, seconds=1))
        call_command("purge_expired")
        assert not Conversation.objects.filter(pk=old.pk).exists()
        assert Conversation.objects.filter(pk=recent.pk).exists()
        assert not InboundMessage.objects.filter(pk=unanswered.pk).exists()
        clock.shift(datetime.timedelta(days=settings.OUTBOUND_RETENTION_DAYS))
        call_command("purge_expired")
        assert not OutboundMessage.objects.filter(pk=final.pk).exists()


def test_a_just_answered_message_is_kept_long_enough_to_ignore_twilios_retry():
    with time_machine.travel(START, tick=False) as clock:
        inbound_message_handle(sid="SMretry", from_number=NUMBER, body="hello")
        call_command("purge_expired")
        assert InboundMessage.objects.filter(sid="SMretry").exists()
        clock.shift(datetime.timedelta(minutes=11))
        call_command("purge_expired")
        assert not InboundMessage.objects.filter(sid="SMretry").exists()


def test_a_text_still_waiting_for_its_worker_is_not_purged_before_it_is_answered():
    with time_machine.travel(START, tick=False) as clock:
        waiting = InboundMessage.objects.create(
            sid="SMwait",
            phone_hash="d" * 64,
            outcome=InboundMessage.Outcome.PENDING,
            number_encrypted=encrypt(NUMBER),
            body_encrypted=encrypt("11501"),
        )
        clock.shift(datetime.timedelta(minutes=30))
        call_command("purge_expired")
        assert InboundMessage.objects.filter(pk=waiting.pk).exists()


def test_an_unfinished_message_loses_its_number_and_text_on_schedule_whatever_its_state(
    settings,
):
    settings.OUTBOUND_UNSENT_RETENTION_HOURS = 24

    def stored(status: str, **fields) -> OutboundMessage:
        message = OutboundMessage(status=status, purpose="alert", **fields)
        message.set_recipient(NUMBER)
        message.set_body("An alert nobody could send.")
        message.save()
        return message

    with time_machine.travel(START, tick=False) as clock:
        queued = stored("queued")
        sending = stored("sending", outcome_unknown=True, attempts=1)
        sent = stored("sent", twilio_sid="SM" + "e" * 32, attempts=1)
        clock.shift(datetime.timedelta(hours=23))
        younger = stored("queued")
        clock.shift(datetime.timedelta(hours=1, seconds=1))
        output = StringIO()
        call_command("purge_expired", stdout=output)
        assert "wiped 3 " in output.getvalue()
        for message in (queued, sending, sent, younger):
            message.refresh_from_db()
        for message in (queued, sending):
            assert message.status == "failed" and not message.outcome_unknown
            assert message.last_error_message.startswith("Expired: not sent within 24 hours")
            assert message.finished_at == START + datetime.timedelta(hours=24, seconds=1)
        assert sent.status == "sent" and sent.finished_at is not None
        for message in (queued, sending, sent):
            assert (message.recipient_encrypted, message.recipient_hash) == ("", "")
            assert message.body_encrypted == ""
        assert younger.status == "queued" and younger.body() == "An alert nobody could send."


def test_purge_is_scheduled_daily_with_celery_beat(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["purge-expired"]
    assert entry["task"] == "assistant.tasks.purge_expired"
    assert entry["schedule"] == 24 * 60 * 60


def test_rotating_the_hash_key_keeps_opt_outs_and_subscriptions_and_drops_state(settings):
    old_key = settings.PHONE_HASH_KEY
    inbound_message_handle(sid="SMa", from_number=NUMBER, body="hello")
    inbound_message_handle(sid="SMb", from_number=NUMBER, body="STOP")
    subscription = Subscription(place=place("NY", "Nassau County"), language="en")
    subscription.set_number("+15165550999")
    subscription.save()
    pending = outbound_queue(to="+15165550777", body="later")
    OutboundMessage.objects.filter(pk=pending.pk).update(status="queued")

    settings.PHONE_HASH_KEY = "a-brand-new-phone-hash-key-2026"
    call_command("rotate_phone_hash_key", "--old-key", old_key)

    assert not Conversation.objects.exists() and not InboundMessage.objects.exists()
    assert OptOut.objects.filter(phone_hash=phone_hash(NUMBER)).exists()
    assert Subscription.objects.get().phone_hash == phone_hash("+15165550999")
    assert OutboundMessage.objects.get(pk=pending.pk).recipient_hash == phone_hash("+15165550777")
    # The resident who said STOP stays opted out: a new text gets no answer.
    result = inbound_message_handle(sid="SMc", from_number=NUMBER, body="hello")
    assert result.replies == [] and result.outcome == InboundMessage.Outcome.OPTED_OUT


def test_rotation_refuses_to_run_before_the_new_key_is_set(settings):
    with pytest.raises(CommandError, match="set the new key first"):
        call_command("rotate_phone_hash_key", "--old-key", settings.PHONE_HASH_KEY)
