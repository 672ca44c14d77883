"""The Twilio webhooks with Redis (the broker and the cache) stopped.

A private redis-server takes the cache and the broker, then is stopped: texts are answered in
the webhook's TwiML, the abuse limits hold in the process, status callbacks are recorded, and
nothing answered in the TwiML is sent again once Redis is back.
"""

import uuid
from datetime import timedelta
from xml.etree import ElementTree

import pytest
from django.test import Client

from assistant.delivery.sending import _record_sid, outbound_early_apply
from assistant.delivery.services import outbound_requeue_stale
from assistant.models import EarlyStatus, InboundMessage, OutboundMessage
from assistant.sms.conversation import State, converse
from assistant.sms.lookup import DbLookup
from assistant.sms.services import inbound_accept, inbound_answer_pending, inbound_requeue_stale
from config.celery import app
from tests.sms_signing import signed_post
from tests.support.services import wait_for

Outcome = InboundMessage.Outcome
Status = OutboundMessage.Status


@pytest.fixture
def webhook_settings(settings, twilio_env):
    settings.TWILIO_AUTH_TOKEN = twilio_env["TWILIO_AUTH_TOKEN"]
    return twilio_env


@pytest.fixture
def redis_down(on_private_redis):
    """Cache and broker on a private Redis, stopped; returns it (a test may start it again)."""
    app.conf.task_always_eager = False
    on_private_redis.stop()
    return on_private_redis


def text(client, number: str, body: str) -> list[str]:
    """Send one text through the webhook; return the messages its TwiML answers with."""
    params = {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": "AC" + "0" * 32,
        "From": number,
        "To": "+15005550006",
        "Body": body,
        "NumMedia": "0",
    }
    response = signed_post(client, "/sms/inbound", params)
    assert response.status_code == 200, response.content
    return [message.text for message in ElementTree.fromstring(response.content).iter("Message")]


def replies_to(texts: list[str]) -> list[list[str]]:
    """Return the replies the conversation gives to each of ``texts`` in turn."""
    state, replies = State(), []
    for body in texts:
        turn = converse(state=state, text=body, lookup=DbLookup())
        state = turn.state
        replies.append([reply for reply in turn.replies if reply])
    return replies


@pytest.mark.celery_worker
def test_with_redis_stopped_texts_are_answered_in_the_twiml_and_never_sent_again(
    start_celery_worker, webhook_settings, fake_twilio, loaded_places, redis_down
):
    number = "+15165550142"
    texts = ["hola necesito ayuda", "11550", "1"]
    expected = replies_to(texts)
    client = Client()

    assert text(client, number, texts[0]) == expected[0]
    # The second text of the same number is answered too: the limits held in the process.
    assert text(client, number, texts[1]) == expected[1]
    assert set(InboundMessage.objects.values_list("outcome", flat=True)) == {Outcome.ANSWERED}
    answered = OutboundMessage.objects.all()
    assert answered.count() == len(expected[0]) + len(expected[1])
    assert {(m.channel, m.status) for m in answered} == {
        (OutboundMessage.Channel.TWIML, Status.SENT)
    }

    redis_down.start_and_settle()
    start_celery_worker(**{**webhook_settings, "REDIS_URL": redis_down.url})
    # What beat does every minute finds nothing left to answer or to send.
    assert inbound_requeue_stale(older_than=timedelta(0)) == []
    assert outbound_requeue_stale(older_than=timedelta(0)) == 0
    # Back to normal: the next text is queued, and the worker sends only its replies.
    assert text(client, number, texts[2]) == []
    wait_for(
        lambda: len(fake_twilio.accepted) >= len(expected[2]),
        timeout=60,
        message=lambda: f"{len(fake_twilio.accepted)} of {len(expected[2])} replies sent",
    )
    assert [m["body"] for m in sorted(fake_twilio.accepted, key=lambda m: m["time"])] == (
        expected[2]
    )


def test_with_redis_stopped_the_loop_guard_and_hourly_cap_hold_in_the_process(
    db, webhook_settings, loaded_places, redis_down, settings
):
    client = Client()
    echo = "Thank you for your message, we will get back to you soon."
    bot = "+15165550143"
    assert text(client, bot, echo) != []
    assert text(client, bot, echo) != []
    assert text(client, bot, echo) == []  # the third time in the window: a loop
    settings.SMS_REPLIES_PER_HOUR = 1
    resident = "+15165550144"
    assert text(client, resident, "hola necesito ayuda") != []
    assert text(client, resident, "11550") == []  # over the hourly cap
    outcomes = list(InboundMessage.objects.order_by("pk").values_list("outcome", flat=True))
    assert outcomes == [
        Outcome.ANSWERED,
        Outcome.ANSWERED,
        Outcome.LOOP,
        Outcome.ANSWERED,
        Outcome.RATE_LIMITED,
    ]


def test_a_worker_that_loses_redis_keeps_its_replies_to_send_later(
    db, webhook_settings, fake_twilio, loaded_places, redis_down, django_capture_on_commit_callbacks
):
    # A worker answering a text as Redis goes away has no TwiML to answer in: its replies
    # must wait in PostgreSQL, not be recorded as answered.
    number = "+15165550146"
    inbound = inbound_accept(sid="SM" + uuid.uuid4().hex, from_number=number, body="hola")
    result = inbound_answer_pending(hashed=inbound.phone_hash)  # what the worker's task runs
    assert result.outcome == Outcome.ANSWERED and result.twiml_replies == []
    assert {(m.channel, m.status) for m in OutboundMessage.objects.all()} == {
        (OutboundMessage.Channel.API, Status.QUEUED)
    }
    redis_down.start_and_settle()
    app.conf.task_always_eager = True
    with django_capture_on_commit_callbacks(execute=True):
        outbound_requeue_stale(older_than=timedelta(0))  # what beat does every few seconds
    assert [m["body"] for m in fake_twilio.accepted] == replies_to(["hola"])[0]


def test_a_reply_still_queued_goes_first_in_the_twiml_of_the_next_text(
    db, webhook_settings, fake_twilio, loaded_places, redis_down
):
    # A worker answered the first text as Redis went away: that reply waits, queued. The
    # resident's next text is answered in the webhook's TwiML; the waiting reply goes first,
    # so the answers are read in the order they were written, and it is not sent again.
    number = "+15165550148"
    inbound = inbound_accept(sid="SM" + uuid.uuid4().hex, from_number=number, body="hola")
    inbound_answer_pending(hashed=inbound.phone_hash)
    first, second = replies_to(["hola", "11550"])

    assert text(Client(), number, "11550") == first + second
    assert set(OutboundMessage.objects.values_list("channel", "status")) == {
        (OutboundMessage.Channel.TWIML, Status.SENT)
    }
    assert not OutboundMessage.objects.exclude(recipient_encrypted="", body_encrypted="").exists()
    redis_down.start_and_settle()
    app.conf.task_always_eager = True
    assert outbound_requeue_stale(older_than=timedelta(0)) == 0
    assert fake_twilio.accepted == []


class TestStatusCallbackWithRedisStopped:
    path = "/sms/status"

    def sent_message(self, sid: str) -> OutboundMessage:
        message = OutboundMessage(sender="+15005550006", segments=1)
        message.set_recipient("+15165550145")
        message.set_body("Your county's police work with ICE.")
        message.twilio_sid = sid
        message.status = Status.SENT
        message.save()
        return message

    def test_a_status_for_a_sent_message_is_recorded(self, db, webhook_settings, redis_down):
        message = self.sent_message("SM" + "e" * 32)
        params = {"MessageSid": message.twilio_sid, "MessageStatus": "delivered"}
        assert signed_post(Client(), self.path, params).status_code == 200
        message.refresh_from_db()
        assert message.status == Status.DELIVERED

    def test_a_status_for_a_sid_not_saved_yet_is_kept_in_postgresql_and_applied_once_it_is(
        self, db, webhook_settings, redis_down
    ):
        # Twilio called back before the worker saved the sid, and Redis, which would keep
        # the status until then, is down: PostgreSQL keeps it (sid and status only).
        sid = "SM" + "f" * 32
        message = self.sent_message(sid)
        OutboundMessage.objects.filter(pk=message.pk).update(twilio_sid=None, status=Status.SENDING)
        params = {"MessageSid": sid, "MessageStatus": "delivered"}
        assert signed_post(Client(), self.path, params).status_code == 200
        assert list(EarlyStatus.objects.values_list("sid", "status")) == [(sid, "delivered")]

        assert _record_sid(message.pk, sid)  # the worker saves the sid (Redis still down)
        message.refresh_from_db()
        assert message.status == Status.SENT
        assert outbound_early_apply() == 1  # the stranded-work task, seconds later
        message.refresh_from_db()
        assert message.status == Status.DELIVERED
        assert not EarlyStatus.objects.exists()
