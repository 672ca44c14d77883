"""The foundation: settings, health, languages, the network guard and a real worker."""

import json
import socket

import pytest
from django.db import connection
from django.utils.translation import get_language_info

from tests.support.network import NetworkBlocked
from tests.support.production import PRODUCTION_ENV, manage
from tests.support.services import wait_for


@pytest.mark.parametrize(
    "missing",
    ["SECRET_KEY", "ALLOWED_HOSTS", "PUBLIC_BASE_URL", "PHONE_HASH_KEY", "FIELD_ENCRYPTION_KEY"],
)
def test_production_refuses_to_start_without_a_required_setting(missing):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert missing in result.stderr
    assert "ImproperlyConfigured" in result.stderr


def test_a_bad_boolean_is_an_error_not_false():
    result = manage("check", env={**PRODUCTION_ENV, "DEBUG": "flase"})
    assert result.returncode != 0
    assert "DEBUG must be one of" in result.stderr


def test_a_malformed_encryption_key_is_named():
    result = manage("check", env={**PRODUCTION_ENV, "FIELD_ENCRYPTION_KEY": "short"})
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEY must be a Fernet key" in result.stderr


def test_check_deploy_with_a_production_environment_reports_nothing():
    env = {
        **PRODUCTION_ENV,
        "SMS_BACKEND": "assistant.delivery.backends.twilio.TwilioBackend",
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": "0" * 32,
        "TWILIO_FROM_NUMBER": "+15005550006",
    }
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.django_db
def test_healthz_reports_the_database_and_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert body["broker"] in {"ok", "eager"}


@pytest.mark.django_db(transaction=True)
def test_healthz_is_503_when_the_database_cannot_be_reached(client, postgres):
    # Point the real connection at a port where nothing listens. (The in-memory SQLite
    # database of a local run cannot be disconnected without losing it, hence PostgreSQL.)
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict["PORT"] = "1"
    try:
        response = client.get("/healthz")
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)
    assert response.status_code == 503
    assert json.loads(response.content)["database"] == "down"


@pytest.mark.django_db
def test_root_redirects_to_the_visitors_language(client):
    response = client.get("/", headers={"accept-language": "es"})
    assert response.status_code == 302
    assert response["Location"] == "/es/"
    assert client.get("/en/").status_code == 200


def test_every_launch_language_has_its_own_name():
    from django.conf import settings

    codes = [code for code, _name in settings.LANGUAGES]
    assert codes == ["en", "es", "zh-hans", "vi", "tl", "ko", "ar", "ht", "pt-br", "fr", "ru", "fa"]
    assert get_language_info("tl")["name_local"] == "Tagalog"
    assert get_language_info("ht")["name_local"] == "Kreyòl ayisyen"
    assert get_language_info("es")["name_local"] == "español"
    assert get_language_info("ar")["bidi"] and get_language_info("fa")["bidi"]
    assert not get_language_info("he" if False else "vi")["bidi"]


def test_tests_cannot_reach_the_internet_even_through_except_exception():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    caught_by_except_exception = False
    try:
        try:
            sock.connect(("93.184.216.34", 80))
        except Exception:
            caught_by_except_exception = True
    except NetworkBlocked:
        pass
    else:
        pytest.fail("a non-loopback connection was allowed")
    finally:
        sock.close()
    assert not caught_by_except_exception


def test_celery_worker_on_redis_runs_a_task_end_to_end(celery_worker):
    from django.core.cache import cache

    from assistant.ops.health import HEARTBEAT_CACHE_KEY
    from assistant.ops.tasks import worker_heartbeat

    assert cache.get(HEARTBEAT_CACHE_KEY) is None
    result = worker_heartbeat.delay()
    assert result.id
    stamp = wait_for(lambda: cache.get(HEARTBEAT_CACHE_KEY), timeout=30)
    assert stamp > 0
    assert f"Task assistant.tasks.worker_heartbeat[{result.id}] succeeded" in celery_worker.log()
