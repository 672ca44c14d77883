"""What the inbound webhook leaves out, and that a text is recorded all the same (issue 15).

Under a burst every step of the webhook is throughput: it sends no health check before its
one statement, builds no Content-Security-Policy for Twilio, and goes past the site's
middleware (config/webhooks.py).
"""

import uuid

import pytest
from django.db import connection, connections
from django.http import HttpResponse
from django.test import Client
from django.urls import path, reverse
from django.utils import translation
from twilio.request_validator import RequestValidator

from assistant.delivery.backends import locmem
from assistant.models import InboundMessage
from assistant.sms.webhooks import twilio_webhook
from config.webhooks import twilio_webhook_routes
from tests.sms_signing import signed_post, twilio_signature

NUMBER = "+15165550188"


@pytest.fixture(autouse=True)
def sms_settings(settings):
    settings.TWILIO_AUTH_TOKEN = "test-auth-token-for-signatures"
    settings.SMS_BACKEND = "assistant.delivery.backends.locmem.LocmemBackend"
    locmem.outbox.clear()
    yield settings
    locmem.outbox.clear()


def fields(body):
    """What Twilio posts for a new text from NUMBER."""
    return {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": "AC" + "0" * 32,
            "From": NUMBER, "To": "+15005550006", "Body": body, "NumMedia": "0"}  # fmt: skip


def text(client, body):
    values = fields(body)
    return values["MessageSid"], signed_post(client, "/sms/inbound", values)


@pytest.mark.django_db(transaction=True)
def test_a_text_is_recorded_on_a_new_connection_when_postgresql_closed_the_kept_one(
    postgres, loaded_places, monkeypatch
):
    client = Client()
    first, response = text(client, "hola")
    assert response.status_code == 200
    assert InboundMessage.objects.filter(sid=first).exists()

    # PostgreSQL ends the connection the web process kept (a restart does this), and a new
    # request begins: Django would send it a health check (CONN_HEALTH_CHECKS). Its test
    # client does not mark requests for that, so the new request is marked here.
    other = connections.create_connection("default")
    with other.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [connection.connection.info.backend_pid])
    other.close()
    connection.health_check_done = False
    checks = []
    wrapper = type(connections["default"])
    is_usable = wrapper.is_usable
    monkeypatch.setattr(wrapper, "is_usable", lambda self: checks.append(1) or is_usable(self))

    second, response = text(client, "11550")

    assert response.status_code == 200
    assert checks == []  # no SELECT 1 before the insert
    # Recorded in PostgreSQL, on a new connection, and answered: not spooled, not lost.
    recorded = InboundMessage.objects.get(sid=second)
    assert recorded.outcome == InboundMessage.Outcome.ANSWERED
    assert recorded.reply_count >= 1


@pytest.mark.django_db
def test_the_webhooks_answer_without_a_content_security_policy_and_pages_keep_theirs():
    client = Client()
    _, response = text(client, "hola")
    assert response.status_code == 200
    assert "Content-Security-Policy" not in response
    assert "Content-Security-Policy" in client.get("/en/")


@pytest.mark.django_db
@pytest.mark.parametrize("signed_url", ["https://kyp.example.org", "https://kyp.example.org:443"])
def test_the_signature_is_checked_once_for_the_url_as_known_and_still_with_its_port(
    settings, signed_url
):
    """Twilio signs the URL it called, with or without the default port: both are its."""
    settings.PUBLIC_BASE_URL = "https://kyp.example.org"
    values = fields("hola")
    validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)
    signature = validator.compute_signature(signed_url + "/sms/inbound", values)

    accepted = Client().post("/sms/inbound", values, headers={"X-Twilio-Signature": signature})
    forged = Client().post(
        "/sms/inbound", {**values, "Body": "stop"}, headers={"X-Twilio-Signature": signature}
    )

    assert accepted.status_code == 200
    assert forged.status_code == 403


def test_the_twilio_webhooks_are_found_in_the_urlconf_and_nothing_else():
    routes = twilio_webhook_routes("config.urls")
    assert set(routes) == {reverse("sms_inbound"), reverse("sms_status"), reverse("voice_inbound")}
    assert {match.url_name for match in routes.values()} == {
        "sms_inbound", "sms_status", "voice_inbound"
    }  # fmt: skip


@pytest.mark.django_db
def test_a_webhook_goes_past_the_site_middleware_and_keeps_its_checks(settings):
    client = Client()
    _, response = text(client, "hola")
    assert response.status_code == 200
    # The site's middleware did not run: no frame options, no language negotiation, no
    # session; SecurityMiddleware, before the short path, did.
    assert "X-Frame-Options" not in response
    assert "Vary" not in response
    assert response["X-Content-Type-Options"] == "nosniff"
    page = client.get("/en/")
    assert page["X-Frame-Options"] == "DENY"

    # What the view and Django check still holds.
    values = fields("hola")
    forged = client.post("/sms/inbound", values, headers={"X-Twilio-Signature": "forged"})
    assert forged.status_code == 403
    assert client.get("/sms/inbound").status_code == 405
    malformed = signed_post(client, "/sms/inbound", {"Body": "hola"})
    assert malformed.status_code == 400
    signature = twilio_signature("/sms/inbound", values)
    other_host = client.post(
        "/sms/inbound",
        values,
        headers={"X-Twilio-Signature": signature},
        HTTP_HOST="attacker.example",
    )
    assert other_host.status_code == 400
    assert not InboundMessage.objects.filter(sid=values["MessageSid"]).exists()


@twilio_webhook
def language_seen(request):
    return HttpResponse(translation.get_language(), content_type="text/plain")


urlpatterns = [path("hook/language", language_seen)]


def test_a_webhook_runs_in_the_default_language_whatever_the_request_says(settings):
    """Twilio sends no language: the short path uses the site's default, as LocaleMiddleware
    would, not the Accept-Language of a request nor the language the process served last."""
    settings.ROOT_URLCONF = __name__
    translation.activate("es")
    try:
        response = signed_post(Client(), "/hook/language", {"A": "b"}, HTTP_ACCEPT_LANGUAGE="es")
    finally:
        translation.deactivate()
    assert response.status_code == 200
    assert response.content == b"en"
