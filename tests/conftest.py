"""Shared fixtures: the network guard, real services, and real Celery workers."""

import ipaddress
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


class NetworkBlocked(BaseException):
    """A test tried to reach a host that is not this machine.

    A BaseException, so that no ``except Exception`` in the code under test can swallow it.
    """


def _is_loopback(host) -> bool:
    if isinstance(host, bytes):
        host = host.decode()
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _guard(real):
    def guarded(sock, address, *args, **kwargs):
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
            raise NetworkBlocked(f"Tests may not connect to {address[0]!r}: loopback only.")
        return real(sock, address, *args, **kwargs)

    return guarded


@pytest.fixture(autouse=True, scope="session")
def block_network():
    """Refuse every connection that would leave this machine."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", _guard(socket.socket.connect))
        patch.setattr(socket.socket, "connect_ex", _guard(socket.socket.connect_ex))
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

    from config.celery import app

    settings.SMS_PACE_DEFAULT = 0
    cache.clear()
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = True


def require_service(available: bool, reason: str) -> None:
    """Skip when a service is missing on a developer's machine; fail in CI."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: a missing service is a failure, not a skip)")
    pytest.skip(reason)


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


def test_database_url() -> str:
    """Return a DATABASE_URL that reaches the test database (for worker subprocesses)."""
    from django.db import connection

    s = connection.settings_dict
    auth = quote(s["USER"] or "")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"])
    host = s.get("HOST") or "127.0.0.1"
    port = s.get("PORT") or "5432"
    return f"postgres://{auth}@{host}:{port}/{s['NAME']}"


class WorkerProcess:
    """A real ``celery -A config worker`` subprocess on the test database and Redis."""

    def __init__(self, env: dict[str, str], concurrency: int, log_path: Path, queues: str):
        self.log_path = log_path
        self.name = f"test-{uuid.uuid4().hex[:8]}@%h"
        command = [
            sys.executable, "-m", "celery", "-A", "config", "worker",
            "--loglevel=INFO", f"--concurrency={concurrency}", "--pool=prefork",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
            "-n", self.name, "-Q", queues,
        ]  # fmt: skip
        self._log = open(log_path, "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            # Its own process group, so a test can kill the whole worker at once (killpg).
            start_new_session=True,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in self.log():
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"Celery worker exited early:\n{self.log()}")
            time.sleep(0.1)
        raise RuntimeError(f"Celery worker did not start in {timeout}s:\n{self.log()}")

    def stop(self, timeout: float = 20) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


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
                "DATABASE_URL": test_database_url(),
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
def celery_worker(start_celery_worker):
    """A single real Celery worker for the test."""
    return start_celery_worker()


def wait_for(predicate, timeout: float = 30, interval: float = 0.1, message: str = ""):
    """Poll ``predicate`` until it returns a truthy value; fail the test on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(message or f"condition not met within {timeout}s")


@pytest.fixture
def admin_login():
    """Return a function that logs a staff user into the admin with a test client.

    Every admin test logs in through this one function, so that the login the admin
    requires (including its second factor) is set up in one place.
    """

    def login(client, user):
        from django_otp import DEVICE_ID_SESSION_KEY

        device = totp_device(user)
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        # What django_otp.login() does once the code step accepts a code: the session
        # remembers the device, and OTPMiddleware marks the user verified from it.
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        return client

    return login


def totp_device(user):
    """Return the user's confirmed authenticator-app device, creating one if needed."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="Test phone", confirmed=True)


def totp_code(device) -> str:
    """Return the code the device's authenticator app shows now."""
    from django_otp.oath import totp

    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    return str(code).zfill(device.digits)


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
