"""Status callbacks that arrive while PostgreSQL is down are kept, then applied.

The database is taken away by pointing the real connection at a port where nothing listens
(a stopped PostgreSQL refuses the same way); the fault suite stops a real one.
"""

import pytest
import redis

from assistant.delivery.models import OutboundMessage
from assistant.delivery.status_spool import STATUS_SPOOL_KEY
from assistant.delivery.tasks import requeue_stranded
from tests.sms_signing import signed_post
from tests.support.services import database_unreachable

pytestmark = pytest.mark.django_db(transaction=True)

Status = OutboundMessage.Status
SID = "SM" + "a" * 32


@pytest.fixture(autouse=True)
def twilio_token(settings, postgres, redis_url):
    settings.TWILIO_AUTH_TOKEN = "test-auth-token-for-signatures"
    settings.REDIS_URL = redis_url
    return settings


def sent_message() -> OutboundMessage:
    message = OutboundMessage(sender="+15005550006", segments=1, purpose="alert")
    message.set_recipient("+15165550199")
    message.set_body("Hello")
    message.twilio_sid = SID
    message.status = Status.SENT
    message.save()
    return message


def callback(client, status: str, code: str = ""):
    params = {"MessageSid": SID, "MessageStatus": status, "AccountSid": "AC" + "0" * 32}
    if code:
        params["ErrorCode"] = code
    return signed_post(client, "/sms/status", params)


def test_a_callback_during_a_database_outage_is_kept_and_applied_when_it_returns(client, redis_url):
    message = sent_message()
    with database_unreachable():
        assert callback(client, "undelivered", "30006").status_code == 200
    assert redis.Redis.from_url(redis_url).llen(STATUS_SPOOL_KEY) == 1
    message.refresh_from_db()
    assert message.status == Status.SENT  # not applied yet
    requeue_stranded.run()
    message.refresh_from_db()
    assert (message.status, message.last_error_code) == (Status.UNDELIVERED, 30006)
    assert redis.Redis.from_url(redis_url).llen(STATUS_SPOOL_KEY) == 0


def test_with_the_database_and_redis_down_twilio_is_asked_to_call_again(client, settings):
    sent_message()
    settings.REDIS_URL = "redis://127.0.0.1:9/0"  # nothing listens there
    with database_unreachable():
        response = callback(client, "delivered")
    assert response.status_code == 503
    assert response["Retry-After"] == "60"
