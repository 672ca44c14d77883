"""Shared fixtures: the network guard, real services, and real Celery workers."""

import os
import socket

import pytest
from hypothesis import HealthCheck, settings

from tests.support.network import loopback_only
from tests.support.services import (
    PrivateRedis,
    WorkerProcess,
    require_service,
    worker_database_url,
)
from tests.support.two_factor import admin_session_login

# Property-based tests (Hypothesis): a modest, fixed set of examples, the same on every run
# (derandomize), so CI is reproducible and quick; no example database is written. For a longer
# random search: HYPOTHESIS_PROFILE=deep.
settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("deep", settings.get_profile("ci"), max_examples=3000, derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True, scope="session")
def block_network():
    """Refuse every connection that would leave this machine."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", loopback_only(socket.socket.connect))
        patch.setattr(socket.socket, "connect_ex", loopback_only(socket.socket.connect_ex))
        yield


@pytest.fixture(autouse=True)
def default_language():
    """Start every test in English: a request through LocaleMiddleware leaves its language active.

    Now that every catalog is complete, a message raised after a Spanish or Arabic page
    would otherwise come out in that language.
    """
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def eager_tasks_and_clean_cache(settings):
    """Run tasks in process unless a test starts a real worker; start each test on an empty cache.

    Tests that want a real worker use ``start_celery_worker``, which switches eager mode off.
    Pacing is off too (tasks run in process have no queue to wait in); the delivery tests
    that measure pacing turn it on.
    """
    from django.core.cache import cache

    from assistant.public.page_cache import pages_in_memory_clear
    from config.celery import app

    settings.SMS_PACE_DEFAULT = 0
    cache.clear()
    pages_in_memory_clear()
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = True


@pytest.fixture
def redis_url() -> str:
    """Return REDIS_URL after checking that Redis answers."""
    url = os.environ.get("REDIS_URL", "")
    available = False
    if url:
        import redis

        try:
            redis.Redis.from_url(url, socket_connect_timeout=1).ping()
            available = True
        except redis.RedisError:
            available = False
    require_service(available, "needs Redis: set REDIS_URL to a running Redis")
    return url


@pytest.fixture
def postgres(settings):
    """Require that the suite runs on PostgreSQL (set DATABASE_URL)."""
    from django.db import connection

    require_service(
        connection.vendor == "postgresql",
        "needs PostgreSQL: set DATABASE_URL to a PostgreSQL database",
    )


@pytest.fixture
def start_celery_worker(redis_url, postgres, transactional_db, tmp_path):
    """Return a function that starts a real Celery worker; all are stopped after the test.

    The worker reads the same test database (so tests using it need committed data, hence
    ``transactional_db``) and the same Redis. Extra environment variables (``SMS_BACKEND``,
    ``TWILIO_API_BASE_URL``, …) are passed as keyword arguments.
    """
    import redis

    from config.celery import app

    # Start from empty queues so no task from an earlier test runs here.
    redis.Redis.from_url(redis_url).delete("celery", "replies")
    app.conf.task_always_eager = False
    workers: list[WorkerProcess] = []

    def start(
        concurrency: int = 1, queues: str = "replies,celery", **extra_env: str
    ) -> WorkerProcess:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("PYTEST_", "COV_"))
        }
        env.update(
            {
                "DEBUG": "true",
                "DATABASE_URL": worker_database_url(),
                "REDIS_URL": redis_url,
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(extra_env)
        worker = WorkerProcess(env, concurrency, tmp_path / f"worker-{len(workers)}.log", queues)
        workers.append(worker)
        worker.wait_ready()
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture
def private_redis(tmp_path):
    """A Redis of this test's own on a free port (the shared one is never restarted)."""
    server = PrivateRedis(tmp_path)
    try:
        server.start()
    except FileNotFoundError:
        require_service(False, "needs redis-server on PATH")
    yield server
    server.stop()


@pytest.fixture
def on_private_redis(private_redis, settings):
    """Point this process's cache and Celery broker at ``private_redis``; return it."""
    from config.celery import app

    settings.REDIS_URL = private_redis.url
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.PooledClientRedisCache",
            "LOCATION": private_redis.url,
            "KEY_PREFIX": "kyp",
            "OPTIONS": {"socket_connect_timeout": 1.0, "socket_timeout": 1.0},
        }
    }
    broker_url = app.conf.broker_url
    app.conf.broker_url = private_redis.url
    app._pool = None  # the producer pool connects to the private Redis from now on
    app.amqp._producer_pool = None
    yield private_redis
    app.conf.broker_url = broker_url
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def celery_worker(start_celery_worker):
    """A single real Celery worker for the test."""
    return start_celery_worker()


@pytest.fixture
def admin_login():
    """Return a function that logs a staff user into the admin with a test client.

    Every admin test logs in through this one function, so that the login the admin
    requires (including its second factor) is set up in one place.
    """

    return admin_session_login


@pytest.fixture
def fake_twilio():
    """A fake Twilio Messages API on loopback (tests/fake_twilio.py), stopped after the test."""
    from tests.fake_twilio import FakeTwilio

    server = FakeTwilio().start()
    yield server
    server.stop()


@pytest.fixture
def twilio_env(settings, fake_twilio):
    """Point this process at the fake Twilio; return the same settings as worker env vars.

    Pacing is off unless a test turns it on; retries are quick.
    """
    from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER

    env = {
        "SMS_BACKEND": "assistant.delivery.backends.twilio.TwilioBackend",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "TWILIO_API_BASE_URL": fake_twilio.url,
        "TWILIO_TIMEOUT_SECONDS": "1.5",
        "SMS_PACE_DEFAULT": "0",
        "SMS_RETRY_BASE_DELAY_SECONDS": "0.2",
        "SMS_RETRY_MAX_ATTEMPTS": "4",
    }
    settings.SMS_BACKEND = env["SMS_BACKEND"]
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_FROM_NUMBER = FROM_NUMBER
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    settings.TWILIO_API_BASE_URL = fake_twilio.url
    settings.TWILIO_TIMEOUT_SECONDS = 1.5
    settings.SMS_PACE_DEFAULT = 0
    settings.SMS_PACE_PER_SENDER = {}
    settings.SMS_RETRY_BASE_DELAY_SECONDS = 0.2
    settings.SMS_RETRY_MAX_ATTEMPTS = 4
    return env


@pytest.fixture
def loaded_places():
    """The places migration 0002 loads, reloaded if a transactional test emptied the tables.

    Request it after the fixture that gives database access (``db``, ``start_celery_worker``).
    """
    from assistant.models import Place
    from assistant.places.services import places_load

    if Place.objects.count() == 0:
        places_load()


@pytest.fixture
def ice_list(db):
    """An imported ICE list dated three days ago: without one, no page gives a yes or a no."""
    from tests.factories import ice_list_snapshot

    return ice_list_snapshot(days_old=3)


# The organizers' roles (groups made by the migrations), one user each.


@pytest.fixture
def editor():
    """A staff user in the Editor group: writes drafts and submits them for review."""
    from tests.factories import user_with_roles

    return user_with_roles("Editor", username="editor")


@pytest.fixture
def reviewer():
    """A staff user in the Reviewer group: publishes what an editor submitted."""
    from tests.factories import user_with_roles

    return user_with_roles("Reviewer", username="reviewer")


@pytest.fixture
def spanish_translator():
    """A staff user in the Translator group who translates into Spanish."""
    from tests.factories import user_with_roles

    return user_with_roles("Translator", username="traductora", languages=("es",))


@pytest.fixture
def root():
    """A superuser in no group."""
    from tests.factories import user_with_roles

    return user_with_roles(username="root", is_superuser=True)


# Prism is shared by the delivery contract and WhatsApp tests (a session fixture).
from tests.support.prism import prism  # noqa: E402, F401
