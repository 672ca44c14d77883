"""Property-based tests of Twilio's webhooks: whatever a signed request holds, the answer is
200, 204 or 400 (never a 5xx) and nothing is logged as an error; a forged one is 403.

Every POST field is drawn from arbitrary Unicode, empty, huge, missing, or a value Twilio
would send, and the request is signed with the test auth token so that it reaches the view.
The number of examples and the seed are fixed by the "ci" profile (tests/conftest.py).
"""

import logging
from contextlib import contextmanager
from urllib.parse import urlencode

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.delivery.backends import locmem
from tests.sms_signing import twilio_signature

pytestmark = pytest.mark.django_db

AUTH_TOKEN = "test-auth-token-for-signatures"
ACCEPTED = {200, 204, 400}
# Function-scoped fixtures (the database, settings, caplog) are shared by the examples of a
# test; each example starts afresh all the same (see ``example``).
SHARED_FIXTURES = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
# An inbound example is up to three texts: half as many examples keeps the run short.
SEQUENCES = settings(SHARED_FIXTURES, max_examples=max(1, settings.default.max_examples // 2))
BRIEFLY = settings(SHARED_FIXTURES, max_examples=max(1, settings.default.max_examples // 10))

# Digits that str.isdigit() accepts and int() refuses, or accepts as another script's digits.
OTHER_DIGITS = "²³¹⁰⁴①②⑨٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹０１２３４５６７８９०१२३४५६७८९𝟏𝟐"
NUMBERS = ["+15165550123", "+15165550188", "whatsapp:+15165550177"]

hex32 = st.text("0123456789abcdef", min_size=32, max_size=32)
odd_digits = st.text(OTHER_DIGITS + "0123456789+-. ", min_size=1, max_size=16)
# Huge values stay under DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB, whose refusal is Django's own 400).
huge = st.sampled_from(["9" * 20_000, "x" * 200_000, "١" * 5_000, "\x00" * 10_000])
anything = st.one_of(st.just(""), st.text(max_size=40), odd_digits, huge)


def field(*likely):
    """A value Twilio would send, or anything at all; None leaves the field out."""
    return st.one_of(st.sampled_from(likely), anything, st.none())


message_sid = st.one_of(hex32.map(lambda h: "SM" + h), hex32.map(lambda h: "MM" + h), anything)
sender = st.one_of(
    st.sampled_from(NUMBERS),
    odd_digits.map(lambda digits: "+1" + digits),
    st.sampled_from(
        ["+1٣٣٣٥٥٥٠١٢٣", "+1００１５５５０１２３", "whatsapp:+1٥١٦٥٥٥٠١٢٣", "+１5165550123"]
    ),
    anything,
    st.none(),
)
body = st.one_of(
    st.sampled_from(
        ["hola", "hello", "11550", "Nassau County, NY", "0", "1", "2", "5", "9", "STOP", "START"]
        + ["DELETE", "HELP", "MENU", "LANGUAGE", "REPORT", "REMIND", "MEETINGS", "SUBSCRIBE"]
    ),
    odd_digits,
    anything,
    st.none(),
)
extra_fields = st.dictionaries(st.text(min_size=1, max_size=12), st.text(max_size=20), max_size=3)


@st.composite
def twilio_request(draw, valid: dict, fuzzed: dict):
    """Twilio's fields as it sends them, with a few of them (often none) broken."""
    values = {name: draw(strategy) for name, strategy in valid.items()}
    for name in draw(st.sets(st.sampled_from(sorted(fuzzed)), max_size=4)):
        values[name] = draw(fuzzed[name])
    return values


inbound_params = twilio_request(
    valid={
        "MessageSid": hex32.map(lambda h: "SM" + h),
        "AccountSid": st.just("AC" + "0" * 32),
        "From": st.sampled_from(NUMBERS),
        "To": st.just("+15005550006"),
        "Body": body,
        "NumMedia": st.just("0"),
    },
    fuzzed={
        "MessageSid": st.one_of(message_sid, st.none()),
        "AccountSid": field("AC" + "0" * 32),
        "From": sender,
        "To": field("+15005550006", "whatsapp:+14155238886"),
        "NumMedia": field("0", "1", "10"),
        "NumSegments": field("1", "3"),
        "MediaUrl0": field("https://api.twilio.com/x.jpg"),
        "MediaContentType0": field("image/jpeg"),
        "SmsStatus": field("received"),
        "ProfileName": field("María"),
        "WaId": field("15165550177"),
        "ApiVersion": field("2010-04-01"),
        "Body": st.one_of(anything, st.none()),
    },
)
status_params = st.fixed_dictionaries(
    {
        "MessageSid": st.one_of(message_sid, st.none()),
        "MessageStatus": field("queued", "sent", "delivered", "undelivered", "failed", "read"),
        "ErrorCode": st.one_of(
            st.sampled_from(["", "0", "30006", "21610", "²", "⁰", "①", "٣٠٠٠٦", "３００"]),
            odd_digits,
            anything,
            st.none(),
        ),
        "AccountSid": field("AC" + "0" * 32),
        "From": sender,
        "To": sender,
        "SmsStatus": field("sent"),
        "ErrorMessage": field("Unknown destination handset"),
        "ApiVersion": field("2010-04-01"),
    }
)
voice_params = st.fixed_dictionaries(
    {
        "CallSid": st.one_of(hex32.map(lambda h: "CA" + h), anything, st.none()),
        "AccountSid": field("AC" + "0" * 32),
        "From": sender,
        "To": field("+15005550006"),
        "Digits": st.one_of(st.sampled_from(["1", "2", "9", "0", "#", "*", "11550"]), anything),
        "CallStatus": field("in-progress"),
    }
)
voice_query = st.fixed_dictionaries(
    {
        "step": field("start", "language", "zip", "menu", "place"),
        "lang": field("en", "es", "ar", "zz"),
        "page": field("0", "1", "99"),
        "place": field("1", "1,2", "2,3,4"),
        "last": field("1", "zip"),
    }
)


@pytest.fixture(autouse=True)
def webhook_settings(settings, loaded_places):
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.SMS_BACKEND = "assistant.delivery.backends.locmem.LocmemBackend"
    locmem.outbox.clear()
    yield settings
    locmem.outbox.clear()


@contextmanager
def example():
    """Run one example on the database and cache as the test found them, so it can be replayed."""
    cache.clear()
    locmem.outbox.clear()
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


@pytest.fixture
def post(caplog, django_capture_on_commit_callbacks):
    """Return a function that POSTs form fields as Twilio does; it checks what came back.

    The replies' on-commit hand-off to delivery runs as after a real request (each test is one
    transaction that never commits), so delivery is fuzzed too.
    """
    client = Client(raise_request_exception=False)

    def send(path: str, values: dict, *, signed: bool = True, forged: bool = False):
        values = {key: value for key, value in values.items() if value is not None}
        signature = twilio_signature(path, values, token="not-the-token" if forged else None)
        headers = {"X-Twilio-Signature": signature} if signed else {}
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            with django_capture_on_commit_callbacks(execute=True):
                response = client.post(
                    path,
                    urlencode(values),
                    content_type="application/x-www-form-urlencoded",
                    headers=headers,
                )
        errors = [
            f"{record.name}: {record.getMessage()}"
            for record in caplog.records
            if record.levelno >= logging.ERROR or record.exc_info
        ]
        assert not errors, errors
        return response

    return send


@SEQUENCES
@given(messages=st.lists(inbound_params, min_size=1, max_size=3))
def test_inbound_never_fails_whatever_twilio_posts(post, messages):
    # A few texts in a row, so that a menu one text opens is answered by the next.
    with example():
        for values in messages:
            response = post("/sms/inbound", values)
            assert response.status_code in ACCEPTED, response.content[:300]


@SHARED_FIXTURES
@given(values=status_params)
def test_status_callback_never_fails_whatever_twilio_posts(post, values):
    with example():
        response = post("/sms/status", values)
    assert response.status_code in ACCEPTED, response.content[:300]


@SHARED_FIXTURES
@given(values=voice_params, query=voice_query)
def test_voice_never_fails_whatever_twilio_posts(post, values, query):
    query = {key: value for key, value in query.items() if value is not None}
    path = "/voice/inbound" + ("?" + urlencode(query) if query else "")
    with example():
        response = post(path, values)
    assert response.status_code in ACCEPTED, response.content[:300]


@BRIEFLY
@given(
    path=st.sampled_from(["/sms/inbound", "/sms/status", "/voice/inbound"]),
    values=st.one_of(inbound_params, status_params, voice_params),
    signed=st.booleans(),
)
def test_a_forged_or_missing_signature_is_refused_whatever_the_fields(post, path, values, signed):
    with example():
        response = post(path, values, signed=signed, forged=True)
        assert response.status_code == 403
        assert not locmem.outbox
