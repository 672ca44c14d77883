"""The real services tests run against: skip or fail when one is missing, Celery workers,
a private Redis that a test may stop.

A missing service skips the test on a developer's machine and fails it in CI (``CI=true``).
"""

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
import redis

ROOT = Path(__file__).resolve().parent.parent.parent
IN_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def require_service(available: bool, reason: str) -> None:
    """Skip when a service is missing on a developer's machine; fail in CI."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: a missing service is a failure, not a skip)")
    pytest.skip(reason)


def wait_for(predicate, timeout: float = 30, interval: float = 0.1, message=""):
    """Poll ``predicate`` until it returns a truthy value; fail the test on timeout.

    ``message`` may be a function, called on timeout, so that it tells the state then (an
    f-string argument is evaluated before the first poll).
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    if callable(message):
        message = message()
    pytest.fail(message or f"condition not met within {timeout}s")


def worker_database_url() -> str:
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


class PrivateRedis:
    """A ``redis-server`` of one test's own on a free port, that the test may stop and start.

    The shared Redis is never stopped. Its data is kept on disk (append-only file, written at
    every command), so a restart keeps it, as a production Redis with persistence would.
    """

    def __init__(self, data_dir: Path):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.url = f"redis://127.0.0.1:{port}/0"
        self.command = [
            "redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "yes", "--appendfsync", "always", "--dir", str(data_dir),
        ]  # fmt: skip
        self.process = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        client = redis.Redis.from_url(self.url)
        for _ in range(200):
            try:
                client.ping()
                return
            except (redis.ConnectionError, redis.BusyLoadingError):
                time.sleep(0.05)
        raise RuntimeError("private redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
