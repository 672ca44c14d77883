"""Contract tests: the twilio library, as our backend drives it, against Twilio's own spec.

Prism serves a mock built from Twilio's OpenAPI description (npm @twilio-alpha/mcp) with
``--errors``: a request the spec does not allow gets an error, so the test fails.
"""

import json
import re
from datetime import UTC, datetime

import pytest

from assistant.delivery.backends.base import SmsError
from assistant.delivery.backends.twilio import TwilioBackend
from assistant.delivery.sending import CALLBACK_STATUSES
from assistant.delivery.services import outbound_queue
from assistant.models import OutboundMessage
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER
from tests.support.services import wait_for

pytestmark = pytest.mark.twilio_mock


@pytest.fixture
def prism_settings(settings, prism):
    settings.SMS_BACKEND = "assistant.delivery.backends.twilio.TwilioBackend"
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_FROM_NUMBER = FROM_NUMBER
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    settings.TWILIO_API_BASE_URL = prism
    settings.SMS_PACE_DEFAULT = 0
    return {
        "SMS_BACKEND": settings.SMS_BACKEND,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "TWILIO_API_BASE_URL": prism,
        "SMS_PACE_DEFAULT": "0",
        "SMS_RETRY_MAX_ATTEMPTS": "1",
    }


@pytest.mark.celery_worker
def test_a_worker_sends_through_the_twilio_library_as_the_spec_allows(
    start_celery_worker, prism_settings
):
    start_celery_worker(**prism_settings)
    message = outbound_queue(to="+15551230001", body="¿Coopera la policía con ICE? Sí.")
    wait_for(
        lambda: (
            OutboundMessage.objects.get(pk=message.pk).status != OutboundMessage.Status.QUEUED
            and not OutboundMessage.objects.get(pk=message.pk).outcome_unknown
        ),
        timeout=40,
    )
    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.SENT, message.last_error_message
    assert re.fullmatch(r"SM[0-9a-fA-F]{32}", message.twilio_sid)
    assert message.encoding == "UCS-2" and message.segments == 1  # "í" is not in GSM-7


def test_a_request_the_spec_rejects_fails(prism_settings, settings):
    settings.TWILIO_MESSAGING_SERVICE_SID = "MG-not-a-sid"  # breaks the spec's pattern
    with pytest.raises(SmsError) as refused:
        TwilioBackend().send(to="+15551230001", body="Hello.")
    assert "HTTP 422" in str(refused.value) and refused.value.permanent


def test_the_lookup_before_a_resend_is_a_request_the_spec_allows(prism_settings):
    backend = TwilioBackend()
    try:
        found = backend.find_sent(
            to="+15551230001", body="A text Prism's example does not have.", since=datetime.now(UTC)
        )
    except SmsError:
        found = None
    response = backend.client.http_client._test_only_last_response
    # Prism's own example list breaks the spec's "uri" format for its relative page links,
    # and --errors reports that too. What matters here is our request: no violation of it.
    violations = json.loads(response.headers.get("sl-violations", "[]"))
    assert [v for v in violations if v["location"][0] != "response"] == []
    assert response.status_code in (200, 500)
    assert found is None


def test_fetching_a_status_to_close_a_message_is_a_request_the_spec_allows(prism_settings):
    backend = TwilioBackend()
    answer = backend.fetch_status(sid="SM" + "0123456789abcdef" * 2)
    response = backend.client.http_client._test_only_last_response
    violations = json.loads(response.headers.get("sl-violations", "[]"))
    assert violations == []
    assert response.status_code == 200
    # Prism answers with the spec's example: a status of Twilio's, which we can map.
    assert answer is not None and answer.status in CALLBACK_STATUSES
