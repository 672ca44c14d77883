"""The real services tests run against: skip or fail when one is missing, Celery workers,
a private Redis that a test may stop.

A missing service skips the test on a developer's machine and fails it in CI (``CI=true``).
"""

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.db import connection

from config import cache as redis_cache
from config import redis_transport

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


def free_port() -> int:
    """Return a TCP port on loopback that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivatePostgres:
    """A PostgreSQL cluster of one test's own, on a free port, that it may stop and start.

    The shared cluster on 5432 is never stopped. PostgreSQL refuses to run as root, so under
    root the cluster runs as the ``postgres`` user (``runuser``), in a directory it owns.
    ``copy_database`` fills it from another database (pg_dump into psql): quicker than
    migrating, which loads every place.
    """

    def __init__(self):
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        initdb = found[-1] if found else shutil.which("initdb")
        require_service(bool(initdb), "needs PostgreSQL's initdb (apt: postgresql)")
        self.bin = Path(initdb).parent
        self.port = free_port()
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.dir = Path(tempfile.mkdtemp(prefix="kyp-pg-"))
        if self.as_user:
            shutil.chown(self.dir, "postgres")
        self.data = self.dir / "data"
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust")
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/kyp"

    def _run(self, *command: str) -> None:
        subprocess.run(
            [*self.as_user, *command], check=True, stdout=subprocess.DEVNULL, cwd=self.dir
        )

    def start(self) -> None:
        # fsync off: the test stops it cleanly, and it is thrown away after.
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options,
            "-l", str(self.dir / "log"), "-w", "start",
        )  # fmt: skip

    def stop(self) -> None:
        """Stop it the way an operator would (fast shutdown: sessions are cut)."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def is_running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def copy_database(self, source_url: str) -> None:
        """Create database ``kyp`` in this cluster holding what ``source_url`` holds."""
        psql = ["psql", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(self.port)]
        subprocess.run(
            [*psql, "-U", "postgres", "-d", "postgres", "-c", "CREATE DATABASE kyp"], check=True
        )
        dump = subprocess.Popen(
            ["pg_dump", "--no-owner", "--no-privileges", "-d", source_url],
            stdout=subprocess.PIPE,
        )
        subprocess.run(
            [*psql, "-U", "postgres", "-d", "kyp"], stdin=dump.stdout, check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        dump.stdout.close()
        if dump.wait() != 0:
            raise RuntimeError("pg_dump of the test database failed")

    def remove(self) -> None:
        if self.is_running():
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class WebProcess:
    """The site served by gunicorn in a subprocess, with its own environment.

    For tests where what happens around a request matters (a database that goes away under
    persistent connections, middleware): the test client runs in the test's process and
    skips Django's connection handling.
    """

    def __init__(self, env: dict[str, str], log_path: Path, workers: int = 2):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115
        command = [
            sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{self.port}",
            "-w", str(workers), "--log-level", "warning",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**env, "PUBLIC_BASE_URL": self.url, "PYTHONUNBUFFERED": "1"},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited early:\n{self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not start in {timeout}s:\n{self.log()}")

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

    def start_and_settle(self) -> None:
        """Start Redis again, then wait as long as this process keeps treating it as down.

        After a failed call, the cache and the broker are not tried again for a few seconds
        (config/cache.py, config/redis_transport.py): a restart takes that long to be seen.
        """
        self.start()
        time.sleep(max(redis_cache.RETRY_AFTER_SECONDS, redis_transport.FAIL_FAST_SECONDS))

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


@contextmanager
def database_unreachable():
    """Point the real database connection at a port where nothing listens, then back.

    A stopped PostgreSQL refuses the same way; the fault suite stops a real one.
    """
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict["PORT"] = "1"
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)
