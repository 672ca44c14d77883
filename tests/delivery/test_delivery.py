"""Delivery in one process: the service, the Twilio error mapping, /sms/status, the admin.

The twilio library talks to the fake Twilio server (tests/fake_twilio.py) over loopback.
Tests with real workers are in test_delivery_worker.py; the contract with Twilio's own
OpenAPI spec is in test_delivery_contract.py.
"""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from assistant.delivery.pacing import pace_reserve
from assistant.delivery.sending import (
    DeliveryDeferred,
    DeliveryRetry,
    outbound_deliver,
    outbound_status_update,
)
from assistant.delivery.services import outbound_queue, outbound_requeue_stale, replies_dispatch
from assistant.models import OptOut, OutboundMessage
from assistant.privacy import phone_hash
from tests.factories import UserFactory
from tests.sms_signing import signed_post
from tests.support.services import wait_for

pytestmark = pytest.mark.django_db

NUMBER = "+15551230001"
BODY = "Nassau County police work with ICE. Reply HELP for more."
Status = OutboundMessage.Status


def raw_rows() -> str:
    """Return every stored column of every outbound message, as the database holds them."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM assistant_outboundmessage")
        return repr(cursor.fetchall())


def deliver_until_done(message_id: int, limit: int = 10) -> list[str]:
    """Run delivery like the task would, retrying at once; return what each run raised."""
    outcomes = []
    for _ in range(limit):
        try:
            outcomes.append(outbound_deliver(message_id=message_id))
            return outcomes
        except DeliveryRetry:
            outcomes.append("retry")
    return outcomes


def test_a_queued_message_is_sent_once_and_stored_only_encrypted(twilio_env, fake_twilio):
    message = outbound_queue(to=NUMBER, body=BODY, purpose="alert", language="en")
    assert NUMBER not in raw_rows() and BODY not in raw_rows()
    assert message.recipient_hash == phone_hash(NUMBER)

    assert outbound_deliver(message_id=message.pk) == "sent"
    assert outbound_deliver(message_id=message.pk) == "already-sent"

    message.refresh_from_db()
    assert message.status == Status.SENT
    assert message.twilio_sid == fake_twilio.accepted[0]["sid"]
    assert (message.segments, message.encoding, message.attempts) == (1, "GSM-7", 1)
    assert message.sender == "+15005550006"
    assert [(m["to"], m["body"]) for m in fake_twilio.accepted] == [(NUMBER, BODY)]
    assert NUMBER not in raw_rows() and BODY not in raw_rows()


def test_a_reply_as_its_worker_just_wrote_it_is_sent_with_one_read_fewer_and_still_in_order(
    twilio_env, fake_twilio
):
    first = outbound_queue(to=NUMBER, body=BODY, language="en")
    second = outbound_queue(to=NUMBER, body="Reply 2 for more.", language="en")

    # Handed over as written, the second still waits for the first: the locking read says so.
    assert outbound_deliver(message_id=second.pk, created=second) == "waiting-for-earlier"
    assert fake_twilio.accepted == []

    with CaptureQueriesContext(connection) as as_written:
        assert outbound_deliver(message_id=first.pk, created=first) == "sent"
    with CaptureQueriesContext(connection) as read_first:
        assert outbound_deliver(message_id=second.pk) == "sent"

    assert len(read_first.captured_queries) == len(as_written.captured_queries) + 1
    assert [m["body"] for m in fake_twilio.accepted] == [BODY, "Reply 2 for more."]
    assert outbound_deliver(message_id=first.pk, created=first) == "already-sent"


def test_reaching_a_final_status_wipes_the_number_and_the_text(twilio_env, fake_twilio):
    message = outbound_queue(to=NUMBER, body=BODY)
    outbound_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.recipient_encrypted and message.body_encrypted
    assert outbound_status_update(sid=message.twilio_sid, status="delivered")
    message.refresh_from_db()
    assert message.status == Status.DELIVERED
    assert (message.recipient_encrypted, message.recipient_hash, message.body_encrypted) == (
        "",
        "",
        "",
    )
    assert message.finished_at is not None


def test_rate_limit_and_server_errors_are_retried_then_sent(twilio_env, fake_twilio):
    fake_twilio.script("429", "not-json")
    message = outbound_queue(to=NUMBER, body=BODY)
    with pytest.raises(DeliveryRetry):
        outbound_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert (message.status, message.last_error_code, message.outcome_unknown) == (
        Status.SENDING,
        20429,
        False,
    )
    # A 502 with an HTML page: Twilio may or may not have taken it, so it is looked up
    # before the next attempt, once the attempt can no longer be in flight.
    with pytest.raises(DeliveryRetry):
        outbound_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.outcome_unknown
    with pytest.raises(DeliveryDeferred):
        outbound_deliver(message_id=message.pk)
    with time_machine.travel(timezone.now() + timedelta(seconds=30)):
        assert outbound_deliver(message_id=message.pk) == "sent"
    message.refresh_from_db()
    assert message.status == Status.SENT
    assert message.attempts == 3
    assert len(fake_twilio.accepted) == 1


@pytest.mark.parametrize("answer", ["hang", "no-sid", "ok-not-json"])
def test_an_answer_lost_after_twilio_took_the_message_does_not_send_it_twice(
    twilio_env, fake_twilio, answer
):
    fake_twilio.hang_seconds = 3  # longer than TWILIO_TIMEOUT_SECONDS (1.5)
    fake_twilio.script(answer)
    message = outbound_queue(to=NUMBER, body=BODY)
    with pytest.raises(DeliveryRetry):
        outbound_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == Status.SENDING and message.outcome_unknown
    assert not message.twilio_sid
    with time_machine.travel(timezone.now() + timedelta(seconds=30)):
        assert outbound_deliver(message_id=message.pk) == "found"
    message.refresh_from_db()
    assert message.status == Status.SENT
    assert message.twilio_sid == fake_twilio.accepted[0]["sid"]
    assert len(fake_twilio.accepted) == 1
    assert message.attempts == 1


def test_server_errors_until_the_limit_end_in_failed_with_the_error(twilio_env, fake_twilio):
    fake_twilio.script("500", "500", "500", "500", "500")
    message = outbound_queue(to=NUMBER, body=BODY)
    # Four attempts, then the look-up that shows the last one did not reach Twilio either.
    for _ in range(5):
        try:
            outbound_deliver(message_id=message.pk)
        except DeliveryRetry:
            pass
        # a 500 may have been taken: step past the in-flight window each time
        OutboundMessage.objects.filter(pk=message.pk).update(
            last_attempt_at=timezone.now() - timedelta(minutes=5)
        )
    message.refresh_from_db()
    assert message.status == Status.FAILED
    assert message.attempts == 4
    assert message.last_error_code == 20500
    assert "Gave up after 4 attempts" in message.last_error_message
    assert message.body_encrypted == "" and message.recipient_encrypted == ""
    assert len(fake_twilio.requests) == 4 and fake_twilio.accepted == []


@pytest.mark.parametrize("code", ["21211", "21617", "30006"])
def test_permanent_errors_fail_at_once_without_retry(twilio_env, fake_twilio, code):
    fake_twilio.script(code)
    message = outbound_queue(to=NUMBER, body=BODY)
    assert outbound_deliver(message_id=message.pk) == "failed"
    message.refresh_from_db()
    assert message.status == Status.FAILED
    assert message.last_error_code == int(code)
    assert len(fake_twilio.requests) == 1
    assert not OptOut.objects.exists()


def test_21610_fails_and_records_the_number_as_opted_out(twilio_env, fake_twilio):
    fake_twilio.script("21610")
    first = outbound_queue(to=NUMBER, body=BODY)
    second = outbound_queue(to=NUMBER, body="A second message.")
    assert outbound_deliver(message_id=first.pk) == "failed"
    opt_out = OptOut.objects.get()
    assert opt_out.phone_hash == phone_hash(NUMBER)
    assert opt_out.source == OptOut.Source.CARRIER
    # The next message to that number never reaches Twilio.
    assert outbound_deliver(message_id=second.pk) == "opted-out"
    assert len(fake_twilio.requests) == 1
    second.refresh_from_db()
    assert second.status == Status.FAILED and "opted out" in second.last_error_message


def test_a_message_queued_before_stop_is_not_sent_after_it(twilio_env, fake_twilio):
    message = outbound_queue(to=NUMBER, body=BODY)
    OptOut.objects.create(phone_hash=phone_hash(NUMBER), source=OptOut.Source.KEYWORD)
    assert outbound_deliver(message_id=message.pk) == "opted-out"
    assert fake_twilio.requests == []


def test_status_only_moves_forward(twilio_env, fake_twilio):
    message = outbound_queue(to=NUMBER, body=BODY)
    outbound_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert outbound_status_update(sid=message.twilio_sid, status="delivered")
    assert not outbound_status_update(sid=message.twilio_sid, status="sent")
    assert not outbound_status_update(sid=message.twilio_sid, status="failed")
    message.refresh_from_db()
    assert message.status == Status.DELIVERED


def test_a_status_that_arrives_before_the_sid_is_saved_is_applied_then(twilio_env, fake_twilio):
    from assistant.delivery.sending import _record_sid

    message = outbound_queue(to=NUMBER, body=BODY)
    sid = "SM" + "a" * 32
    assert not outbound_status_update(sid=sid, status="delivered")
    _record_sid(message.pk, sid)
    message.refresh_from_db()
    assert message.status == Status.DELIVERED


def test_a_status_kept_while_its_sid_is_being_saved_is_applied_all_the_same(
    twilio_env, fake_twilio, monkeypatch
):
    """The callback finds no message with the sid; the worker saves the sid and finds no
    kept status; only then is the status kept. The callback's second look applies it."""
    from django.core.cache import cache

    from assistant.delivery.sending import _record_sid

    message = outbound_queue(to=NUMBER, body=BODY)
    sid = "SM" + "c" * 32
    keep = cache.set

    def kept_after_the_worker_saved_the_sid(key, *args, **kwargs):
        if key.startswith("delivery:pending-status:"):
            assert _record_sid(message.pk, sid)
        return keep(key, *args, **kwargs)

    monkeypatch.setattr(cache, "set", kept_after_the_worker_saved_the_sid)
    assert outbound_status_update(sid=sid, status="delivered")

    message.refresh_from_db()
    assert (message.twilio_sid, message.status) == (sid, Status.DELIVERED)


def test_a_status_kept_for_a_sid_that_never_comes_is_deleted_after_a_while():
    from assistant.delivery.sending import outbound_early_apply
    from assistant.models import EarlyStatus

    EarlyStatus.objects.create(sid="SM" + "e" * 32, status="delivered")
    assert outbound_early_apply() == 0
    assert EarlyStatus.objects.count() == 1  # its sid may still be being saved
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert outbound_early_apply() == 0
    assert not EarlyStatus.objects.exists()


class TestStatusCallback:
    path = "/sms/status"

    @pytest.fixture(autouse=True)
    def token(self, settings):
        settings.TWILIO_AUTH_TOKEN = "t" * 32

    def sent_message(self):
        message = OutboundMessage(sender="+15005550006", segments=1)
        message.set_recipient(NUMBER)
        message.set_body(BODY)
        message.twilio_sid = "SM" + "b" * 32
        message.status = Status.SENT
        message.save()
        return message

    def test_updates_the_message_and_records_the_error_code(self, client):
        message = self.sent_message()
        params = {"MessageSid": message.twilio_sid, "MessageStatus": "undelivered"}
        response = signed_post(client, self.path, {**params, "ErrorCode": "30006"})
        assert response.status_code == 200
        message.refresh_from_db()
        assert message.status == Status.UNDELIVERED
        assert message.last_error_code == 30006
        assert message.body_encrypted == ""

    def test_an_error_21610_in_a_callback_records_the_opt_out(self, client):
        message = self.sent_message()
        params = {"MessageSid": message.twilio_sid, "MessageStatus": "failed", "ErrorCode": "21610"}
        assert signed_post(client, self.path, params).status_code == 200
        assert OptOut.objects.get().phone_hash == phone_hash(NUMBER)

    def test_unknown_sids_and_statuses_are_accepted_and_change_nothing(self, client):
        message = self.sent_message()
        unknown_sid = {"MessageSid": "SM" + "c" * 32, "MessageStatus": "delivered"}
        assert signed_post(client, self.path, unknown_sid).status_code == 200
        odd_status = {"MessageSid": message.twilio_sid, "MessageStatus": "teleported"}
        assert signed_post(client, self.path, odd_status).status_code == 200
        message.refresh_from_db()
        assert message.status == Status.SENT

    @pytest.mark.parametrize(
        "params",
        [
            {},
            {"MessageStatus": "delivered"},
            {"MessageSid": "not-a-sid", "MessageStatus": "delivered"},
            {"MessageSid": "SM" + "d" * 32, "MessageStatus": "delivered", "ErrorCode": "x1"},
        ],
    )
    def test_malformed_callbacks_are_400(self, client, params):
        assert signed_post(client, self.path, params).status_code == 400

    @pytest.mark.parametrize("code", ["²", "⁰", "①", "٣٠٠٠٦", "３０００６", "30006²", "1" * 10])
    def test_an_error_code_in_other_digits_than_ascii_is_400_and_changes_nothing(
        self, client, code
    ):
        message = self.sent_message()
        params = {"MessageSid": message.twilio_sid, "MessageStatus": "failed", "ErrorCode": code}
        response = signed_post(client, self.path, params)
        assert response.status_code == 400
        assert "ErrorCode must be a number" in response.content.decode()
        message.refresh_from_db()
        assert message.status == Status.SENT and message.last_error_code is None

    def test_forged_callbacks_are_403_and_change_nothing(self, client):
        message = self.sent_message()
        params = {"MessageSid": message.twilio_sid, "MessageStatus": "delivered"}
        response = client.post(self.path, params, headers={"X-Twilio-Signature": "forged"})
        assert response.status_code == 403
        message.refresh_from_db()
        assert message.status == Status.SENT


def test_replies_are_queued_when_the_broker_is_up(
    twilio_env, fake_twilio, redis_url, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        inline = replies_dispatch(to=NUMBER, bodies=["One.", "Two."], language="es")
    assert inline == []
    assert sorted(m["body"] for m in fake_twilio.accepted) == ["One.", "Two."]
    assert set(OutboundMessage.objects.values_list("status", "language", "channel")) == {
        (Status.SENT, "es", OutboundMessage.Channel.API)
    }


def test_replies_are_answered_in_twiml_when_the_broker_is_down(twilio_env, fake_twilio, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    inline = replies_dispatch(to=NUMBER, bodies=["One.", "Two."], language="es")
    assert inline == ["One.", "Two."]
    assert fake_twilio.requests == []
    rows = OutboundMessage.objects.order_by("pk")
    assert [(m.channel, m.status, m.segments) for m in rows] == [
        (OutboundMessage.Channel.TWIML, Status.SENT, 1)
    ] * 2
    assert NUMBER not in raw_rows() and "One." not in raw_rows()


def test_a_message_whose_task_was_lost_is_queued_again(
    twilio_env, fake_twilio, django_capture_on_commit_callbacks
):
    message = outbound_queue(to=NUMBER, body=BODY)  # its task never ran (never committed)
    assert outbound_requeue_stale() == 0  # too recent
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        assert outbound_requeue_stale() == 1
    message.refresh_from_db()
    assert message.status == Status.SENT
    assert len(fake_twilio.accepted) == 1


def test_pacing_spaces_turns_by_segments_and_never_waits_too_long(settings, redis_url):
    import redis

    settings.SMS_PACE_PER_SENDER = {"+15550000000": 12.5}
    settings.SMS_PACE_HEADROOM = 0.2  # 10 segments per second
    redis.Redis.from_url(redis_url).delete("kyp:pace:+15550000000")
    waits = [pace_reserve(sender="+15550000000", segments=2, max_wait=1) for _ in range(5)]
    assert all(turn.granted for turn in waits)
    # 2 segments at 10 per second: one turn every 0.2 s
    for index, turn in enumerate(waits):
        assert turn.wait == pytest.approx(0.2 * index, abs=0.05)
    refused = pace_reserve(sender="+15550000000", segments=2, max_wait=0.5)
    assert not refused.granted
    assert refused.wait == pytest.approx(1.0, abs=0.05)


def test_the_admin_shows_errors_but_never_the_number_or_the_text(
    twilio_env, fake_twilio, client, admin_login
):
    fake_twilio.script("21211")
    failed = outbound_queue(to=NUMBER, body=BODY)
    outbound_deliver(message_id=failed.pk)
    pending = outbound_queue(to="+15551230002", body="Still waiting to go.")
    admin_login(client, UserFactory(is_superuser=True))
    pages = [
        client.get("/admin/assistant/outboundmessage/"),
        client.get(f"/admin/assistant/outboundmessage/{failed.pk}/change/"),
        client.get(f"/admin/assistant/outboundmessage/{pending.pk}/change/"),
    ]
    for page in pages:
        assert page.status_code == 200
        html = page.content.decode()
        for secret in (NUMBER, "5551230001", BODY, "+15551230002", "Still waiting"):
            assert secret not in html
        assert pending.recipient_encrypted not in html
    assert "21211" in pages[0].content.decode()


def test_a_reply_waits_for_the_earlier_reply_to_the_same_number_then_follows_it(
    twilio_env, fake_twilio, django_capture_on_commit_callbacks
):
    first = outbound_queue(to=NUMBER, body="First.")
    second = outbound_queue(to=NUMBER, body="Second.")
    other = outbound_queue(to="+15551230002", body="To someone else.")
    # The second reply's task runs first (another worker, a retry): it does not overtake.
    assert outbound_deliver(message_id=second.pk) == "waiting-for-earlier"
    assert outbound_deliver(message_id=other.pk) == "sent"
    with django_capture_on_commit_callbacks(execute=True):
        # Sending the first hands the second to a worker (here, eagerly).
        assert outbound_deliver(message_id=first.pk) == "sent"
    assert [m["body"] for m in fake_twilio.accepted] == ["To someone else.", "First.", "Second."]


def test_an_alert_does_not_wait_for_an_unsent_reply_to_the_same_number(twilio_env, fake_twilio):
    outbound_queue(to=NUMBER, body="A reply still queued.")
    alert = outbound_queue(to=NUMBER, body="An alert.", purpose="alert")
    assert outbound_deliver(message_id=alert.pk) == "sent"


@pytest.fixture
def clock():
    """A clock the test moves on, past an attempt's lease (the fake Twilio's clock too)."""
    with time_machine.travel(timezone.now(), tick=True) as traveller:
        yield traveller


def later(clock) -> None:
    """Move past the last attempt's lease: its answer can no longer be on its way."""
    clock.shift(timedelta(seconds=30))


def test_a_lost_answer_is_matched_to_its_own_message_not_an_identical_earlier_one(
    twilio_env, fake_twilio, clock
):
    first = outbound_queue(to=NUMBER, body=BODY, purpose="alert")
    assert outbound_deliver(message_id=first.pk) == "sent"
    second = outbound_queue(to=NUMBER, body=BODY, purpose="alert")
    fake_twilio.script("ok-not-json")  # Twilio takes the second; its answer is unreadable
    with pytest.raises(DeliveryRetry):
        outbound_deliver(message_id=second.pk)
    later(clock)
    assert outbound_deliver(message_id=second.pk) == "found"
    first.refresh_from_db()
    second.refresh_from_db()
    assert [first.twilio_sid, second.twilio_sid] == [m["sid"] for m in fake_twilio.accepted]
    assert (second.status, second.attempts, second.lookups) == (Status.SENT, 1, 1)


def test_a_lost_attempt_never_takes_the_sid_of_an_identical_earlier_message(
    twilio_env, fake_twilio, clock
):
    # The same reply twice within a minute: the second attempt's answer is a 502 and
    # Twilio did not take it. Its look-up finds only the first one, which is not its own.
    first = outbound_queue(to=NUMBER, body=BODY, purpose="alert")
    assert outbound_deliver(message_id=first.pk) == "sent"
    second = outbound_queue(to=NUMBER, body=BODY, purpose="alert")
    fake_twilio.script("not-json")
    with pytest.raises(DeliveryRetry):
        outbound_deliver(message_id=second.pk)
    later(clock)
    assert outbound_deliver(message_id=second.pk) == "sent"
    second.refresh_from_db()
    assert second.status == Status.SENT and not second.outcome_unknown
    assert [m["body"] for m in fake_twilio.accepted] == [BODY, BODY]
    assert second.twilio_sid == fake_twilio.accepted[1]["sid"]


def test_a_twilio_message_created_before_the_attempt_began_is_not_its_own(twilio_env, fake_twilio):
    # Sent by an earlier attempt whose sid was lost too (the row below has none), minutes
    # before this attempt: not this attempt's message.
    earlier = outbound_queue(to=NUMBER, body=BODY, purpose="alert")
    fake_twilio.script("ok-not-json")
    with pytest.raises(DeliveryRetry):
        outbound_deliver(message_id=earlier.pk)
    later = outbound_queue(to=NUMBER, body=BODY, purpose="alert")
    fake_twilio.script("not-json")
    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        with pytest.raises(DeliveryRetry):
            outbound_deliver(message_id=later.pk)
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        assert outbound_deliver(message_id=later.pk) == "sent"
        assert outbound_deliver(message_id=earlier.pk) == "found"
    earlier.refresh_from_db()
    later.refresh_from_db()
    assert earlier.twilio_sid == fake_twilio.accepted[0]["sid"]
    assert later.twilio_sid == fake_twilio.accepted[1]["sid"]


def test_look_ups_that_keep_failing_end_in_failed_without_a_second_send(
    twilio_env, fake_twilio, settings, clock
):
    fake_twilio.script("hang")
    fake_twilio.hang_seconds = 3  # longer than TWILIO_TIMEOUT_SECONDS (1.5)
    message = outbound_queue(to=NUMBER, body=BODY)
    with pytest.raises(DeliveryRetry):
        outbound_deliver(message_id=message.pk)
    fake_twilio.script_lookups(*["500"] * 100)
    outcomes = []
    for _ in range(20):
        later(clock)
        try:
            outcomes.append(outbound_deliver(message_id=message.pk))
            break
        except DeliveryRetry:
            outcomes.append("retry")
    message.refresh_from_db()
    assert outcomes[-1] == "failed"
    assert message.status == Status.FAILED
    assert message.lookups == 2 * settings.SMS_RETRY_MAX_ATTEMPTS
    assert "Could not find out at Twilio" in message.last_error_message
    assert message.body_encrypted == "" and message.recipient_encrypted == ""
    assert len(fake_twilio.requests) == 1  # never sent again


def test_a_last_attempt_whose_answer_was_lost_is_looked_up_and_sent_if_found(
    twilio_env, fake_twilio, clock
):
    fake_twilio.script("500", "500", "500", "ok-not-json")
    message = outbound_queue(to=NUMBER, body=BODY)
    outcomes = []
    for _ in range(6):
        later(clock)
        try:
            outcomes.append(outbound_deliver(message_id=message.pk))
            break
        except DeliveryRetry:
            outcomes.append("retry")
    assert outcomes == ["retry"] * 4 + ["found"]
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.SENT, 4)
    assert message.twilio_sid == fake_twilio.accepted[0]["sid"]


def test_rate_limits_wait_without_using_up_the_attempts(twilio_env, fake_twilio):
    fake_twilio.script(*["429"] * 6)  # more 429s than SMS_RETRY_MAX_ATTEMPTS (4)
    message = outbound_queue(to=NUMBER, body=BODY)
    assert deliver_until_done(message.pk) == ["retry"] * 6 + ["sent"]
    message.refresh_from_db()
    assert (message.status, message.attempts, message.rate_limits) == (Status.SENT, 7, 6)


def test_rate_limits_have_a_bound_of_their_own(twilio_env, fake_twilio, settings):
    settings.SMS_RATE_LIMIT_MAX_RETRIES = 3
    fake_twilio.script(*["429"] * 10)
    message = outbound_queue(to=NUMBER, body=BODY)
    assert deliver_until_done(message.pk) == ["retry"] * 3 + ["failed"]
    message.refresh_from_db()
    assert message.status == Status.FAILED
    assert "too fast 4 times" in message.last_error_message
    assert message.last_error_code == 20429


def queued_row(body: str, purpose: str = "alert") -> OutboundMessage:
    """Return a committed queued message whose task was never enqueued."""
    message = OutboundMessage(sender="+15005550006", segments=1, purpose=purpose)
    message.set_recipient(NUMBER)
    message.set_body(body)
    message.save()
    return message


@pytest.mark.django_db(transaction=True)
def test_a_sid_another_message_took_in_a_look_up_leaves_neither_stuck(
    twilio_env, fake_twilio, settings
):
    settings.TWILIO_TIMEOUT_SECONDS = 10
    fake_twilio.script("hang")  # Twilio takes it and answers when the test says so
    taker, message = queued_row(BODY), queued_row(BODY)  # no task: this test runs them
    outcome = []

    def send():
        try:
            outcome.append(outbound_deliver(message_id=message.pk))
        finally:
            connection.close()

    sending = threading.Thread(target=send)
    sending.start()
    try:
        wait_for(lambda: fake_twilio.accepted, timeout=10)
        # Meanwhile another message's look-up took that Twilio message for its own.
        OutboundMessage.objects.filter(pk=taker.pk).update(
            twilio_sid=fake_twilio.accepted[0]["sid"], status=Status.SENT
        )
    finally:
        fake_twilio.release.set()
        sending.join(30)
    assert outcome == ["sent"]
    message.refresh_from_db()
    assert (message.status, message.twilio_sid, message.outcome_unknown) == (
        Status.SENT,
        None,
        False,
    )
    assert f"message #{taker.pk} had already taken" in message.last_error_message
    assert outbound_requeue_stale(older_than=timedelta(0)) == 0  # nothing left to send
    assert len(fake_twilio.accepted) == 1


def test_pacing_without_redis_spaces_turns_in_the_process(settings, private_redis):
    sender = "+15550000001"
    settings.REDIS_URL = private_redis.url
    settings.SMS_PACE_PER_SENDER = {sender: 12.5}
    settings.SMS_PACE_HEADROOM = 0.2  # 10 segments per second
    private_redis.stop()
    waits = [pace_reserve(sender=sender, segments=2, max_wait=1) for _ in range(5)]
    assert all(turn.granted for turn in waits)
    for index, turn in enumerate(waits):
        assert turn.wait == pytest.approx(0.2 * index, abs=0.05)
    assert not pace_reserve(sender=sender, segments=2, max_wait=0.5).granted
