"""The fault suite's own production-like stack, on free loopback ports.

A private PostgreSQL cluster (initdb in a temporary directory, trust auth) and a private
Redis, so that a scenario can stop them; gunicorn (2 workers) serving config.wsgi; two
Celery workers of 2 processes each on the ``replies`` and ``celery`` queues; celery beat;
and the fake Twilio (tests/fake_twilio.py), which also posts the status callbacks.

Every process runs in its own process group and is killed with it: ``FaultStack.stop``
(called by the module fixture's finalizer, and at exit as a last resort) leaves nothing
running and removes the temporary directory. The shared PostgreSQL and Redis are never
stopped; the test database is only read once, by pg_dump, to copy its schema.
"""

import atexit
import glob
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from http.client import HTTPConnection
from pathlib import Path

import psycopg
import redis

from assistant.models import (
    Conversation,
    ForumReminderOptIn,
    ForumReminderSent,
    InboundMessage,
    MistakeReport,
    OptOut,
    OutboundMessage,
    Subscription,
)
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio
from tests.support.services import ROOT, WorkerProcess

DATABASE = "kyp_faults"
# What a scenario writes; emptied between scenarios (the places stay).
SCENARIO_TABLES = [
    model._meta.db_table
    for model in (
        InboundMessage,
        OutboundMessage,
        Conversation,
        OptOut,
        Subscription,
        ForumReminderOptIn,
        ForumReminderSent,
        MistakeReport,
    )
]
FINAL = ("delivered", "undelivered", "failed")
_RUNNING: list["Service"] = []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_program(name: str) -> str | None:
    """Return the path of a PostgreSQL server program (initdb, postgres), newest version first."""
    found = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda path: int(Path(path).parent.parent.name.split(".")[0]),
    )
    return found[-1] if found else shutil.which(name)


def _server_user() -> str | None:
    """PostgreSQL refuses to run as root: as root, run it as the postgres user."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "nobody"
    return "postgres"


class Service:
    """A subprocess in a process group of its own, its output in a log file."""

    def __init__(self, name: str, command: list[str], log_path: Path, **popen):
        self.name, self.command, self.log_path, self.popen = name, command, log_path, popen
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.command,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **self.popen,
            )
        _RUNNING.append(self)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
        """Send ``sig`` to the leader, wait, then kill whatever is left of its group."""
        if self.process is None:
            return
        if self.alive():
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        self.kill()

    def kill(self) -> None:
        """SIGKILL the leader, then the rest of its process group.

        The leader first: a Celery worker that outlived its pool processes for a moment
        would put their tasks back on the queue itself, and the point is that it cannot.
        """
        if self.process is None:
            return
        try:
            self.process.kill()
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            pass
        if self in _RUNNING:
            _RUNNING.remove(self)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


@atexit.register
def _kill_leftovers() -> None:
    for service in list(_RUNNING):
        service.kill()


class PrivateRedis(Service):
    """redis-server on a free port; its data survives a stop (append-only file)."""

    def __init__(self, directory: Path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        command = [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "yes", "--dir", str(directory),
        ]  # fmt: skip
        super().__init__("redis", command, directory / "redis.log")

    def start(self) -> None:
        super().start()
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                client.ping()
                return
            except redis.RedisError:
                if not self.alive():
                    break
                time.sleep(0.05)
        raise RuntimeError(f"private redis-server did not start:\n{self.log()[-2000:]}")

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_connect_timeout=2, socket_timeout=5)


class PrivatePostgres(Service):
    """A PostgreSQL cluster of its own: initdb in a temporary directory, trust auth.

    Stopped with a fast shutdown (SIGINT: sessions are ended, nothing is lost), started again
    on the same port and data.
    """

    def __init__(self, directory: Path):
        self.port = free_port()
        self.directory = directory
        self.user = _server_user()
        data = directory / "data"
        initdb = postgres_program("initdb")
        postgres = postgres_program("postgres")
        if not initdb or not postgres:
            raise FileNotFoundError("PostgreSQL's initdb and postgres programs")
        directory.mkdir(exist_ok=True)
        if self.user:
            shutil.chown(directory, self.user)
        subprocess.run(
            [initdb, "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
             "--no-sync", "--locale=C"],
            check=True, capture_output=True, user=self.user,
        )  # fmt: skip
        command = [
            postgres, "-D", str(data), "-p", str(self.port), "-h", "127.0.0.1",
            "-k", str(directory), "-c", "fsync=off", "-c", "full_page_writes=off",
        ]  # fmt: skip
        super().__init__("postgres", command, directory / "postgres.log", user=self.user)

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = DATABASE, timeout: int = 2) -> psycopg.Connection:
        return psycopg.connect(self.url(database), connect_timeout=timeout, autocommit=True)

    def start(self) -> None:
        super().start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                self.connect("postgres").close()
                return
            except psycopg.OperationalError:
                if not self.alive():
                    break
                time.sleep(0.1)
        raise RuntimeError(f"private PostgreSQL did not start:\n{self.log()[-2000:]}")

    def stop(self, sig: int = signal.SIGINT, timeout: float = 30) -> None:
        super().stop(sig, timeout)

    def copy_database(self, source_url: str) -> None:
        """Create DATABASE as a copy of ``source_url`` (pg_dump | psql)."""
        with self.connect("postgres") as connection:
            connection.execute(f"CREATE DATABASE {DATABASE}")
        dump = subprocess.Popen(
            [_client_program("pg_dump"), "--no-owner", "--no-privileges", "-d", source_url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        restore = subprocess.run(
            [_client_program("psql"), "-q", "-v", "ON_ERROR_STOP=1", "-d", self.url(DATABASE)],
            stdin=dump.stdout,
            capture_output=True,
        )
        dump.stdout.close()
        dump_errors = dump.stderr.read().decode(errors="replace")
        if dump.wait() != 0 or restore.returncode != 0:
            raise RuntimeError(
                "copying the test database failed:\n"
                f"{dump_errors}\n{restore.stderr.decode(errors='replace')}"
            )


def _client_program(name: str) -> str:
    return postgres_program(name) or name


class Gunicorn(Service):
    """gunicorn serving config.wsgi with 2 workers on a free port."""

    def __init__(self, directory: Path, port: int, env: dict[str, str]):
        self.port = port
        command = [
            sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}",
            "-w", "2", "--timeout", "30", "--log-level", "warning",
        ]  # fmt: skip
        super().__init__("gunicorn", command, directory / "gunicorn.log", cwd=ROOT, env=env)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                connection = HTTPConnection("127.0.0.1", self.port, timeout=5)
                connection.request("GET", "/healthz")
                connection.getresponse().read()
                connection.close()
                return
            except OSError:
                if not self.alive():
                    break
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not start:\n{self.log()[-2000:]}")


class Beat(Service):
    """celery beat, with its schedule file in the temporary directory."""

    def __init__(self, directory: Path, env: dict[str, str]):
        command = [
            sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel=INFO",
            "-s", str(directory / "beat-schedule"), "--pidfile", str(directory / "beat.pid"),
        ]  # fmt: skip
        super().__init__("beat", command, directory / "beat.log", cwd=ROOT, env=env)


class Worker(Service):
    """A Celery worker of 2 processes on both queues (tests/support/services.WorkerProcess)."""

    def __init__(self, directory: Path, index: int, env: dict[str, str]):
        self.directory, self.index, self.env, self.generation = directory, index, env, 0
        self.worker: WorkerProcess | None = None
        super().__init__(f"worker-{index}", [], directory / f"worker-{index}.log")

    def start(self) -> None:
        self.generation += 1
        log_path = self.directory / f"worker-{self.index}.{self.generation}.log"
        self.log_path = log_path
        self.worker = WorkerProcess(self.env, 2, log_path, "replies,celery")
        self.process = self.worker.process
        _RUNNING.append(self)

    def wait_ready(self) -> None:
        self.worker.wait_ready(timeout=90)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
        super().stop(sig, timeout)
        if self.worker is not None:
            self.worker._log.close()


class FaultStack:
    """Everything a scenario runs against; ``reset`` between scenarios."""

    def __init__(self, source_database_url: str):
        self.source_database_url = source_database_url
        self.directory = Path(tempfile.mkdtemp(prefix="kyp-faults-"))
        # PostgreSQL runs as another user when we are root: it must be able to reach its data.
        self.directory.chmod(0o755)
        self.services: list[Service] = []
        self.redis: PrivateRedis | None = None
        self.postgres: PrivatePostgres | None = None
        self.fake: FakeTwilio | None = None
        self.workers: list[Worker] = []
        self.needs_restart = False  # set after a scenario that did not settle
        self.fault_notes: list[str] = []  # what the scenario's fault did, for the table

    @property
    def public_url(self) -> str:
        return f"http://127.0.0.1:{self.gunicorn.port}"

    def start(self) -> None:
        self.redis = PrivateRedis(self.directory)
        self.redis.start()
        self.postgres = PrivatePostgres(self.directory / "postgres")
        self.postgres.start()
        self.postgres.copy_database(self.source_database_url)
        self.fake = FakeTwilio().start()
        port = free_port()
        self.env = self._environment(port)
        self.gunicorn = Gunicorn(self.directory, port, self.env)
        self.beat = Beat(self.directory, self.env)
        self.workers = [Worker(self.directory, index, self.env) for index in range(2)]
        self.services = [self.gunicorn, self.beat, *self.workers]
        for service in self.services:
            service.start()
        self.gunicorn.wait_ready()
        for worker in self.workers:
            worker.wait_ready()

    def _environment(self, port: int) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("PYTEST_", "COV_"))
        }
        env.update(
            {
                "DEBUG": "true",
                "DATABASE_URL": self.postgres.url(DATABASE),
                "REDIS_URL": self.redis.url,
                "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
                "SMS_BACKEND": "assistant.delivery.backends.twilio.TwilioBackend",
                "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
                "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                "TWILIO_FROM_NUMBER": FROM_NUMBER,
                "TWILIO_MESSAGING_SERVICE_SID": "",
                "TWILIO_API_BASE_URL": self.fake.url,
                # Shorter than production so that a scenario takes seconds: how long a send
                # may hang, the first retry's delay. Pacing stays on, far above the burst.
                "TWILIO_TIMEOUT_SECONDS": "3",
                "SMS_RETRY_BASE_DELAY_SECONDS": "1",
                "SMS_PACE_DEFAULT": "200",
                # beat's ICE fetch must never leave this machine.
                "ICE_287G_PAGE_URL": "http://127.0.0.1:9/287g",
                "LOG_LEVEL": "INFO",
                "PYTHONUNBUFFERED": "1",
            }
        )
        return env

    def expected_replies(self, scripts: list[list[str]]) -> list[list[str]]:
        """Return the replies to each script, from the private database (see expected_replies)."""
        result = subprocess.run(
            [sys.executable, "-m", "tests.faults.expected_replies"],
            input=json.dumps(scripts).encode(),
            capture_output=True,
            cwd=ROOT,
            env=self.env,
            timeout=300,
        )
        if result.returncode != 0:
            raise RuntimeError(result.stderr.decode(errors="replace")[-3000:])
        return json.loads(result.stdout)

    def stop(self) -> None:
        try:
            for service in self.services:
                service.stop(timeout=10)
            if self.fake is not None:
                self.fake.stop()
            for service in (self.postgres, self.redis):
                if service is not None:
                    service.stop(timeout=20)
        finally:
            for service in list(_RUNNING):
                service.kill()
            shutil.rmtree(self.directory, ignore_errors=True)

    def reset(self, *, restart: bool) -> None:
        """Empty the queues, the cache and what the last scenario wrote; restart what died.

        With ``restart`` (the last scenario stopped a service, killed a worker or did not
        settle) the workers and beat are restarted too, so nothing they still hold (a
        countdown, a task half done) runs into the next scenario.
        """
        self.fake.reset()
        self.fault_notes = []
        if not self.redis.alive():
            self.redis.start()
        if not self.postgres.alive():
            self.postgres.start()
        for service in [self.beat, *self.workers]:
            if restart or not service.alive():
                service.stop(timeout=10)
        self.redis.client().flushall()
        with self.postgres.connect() as connection:
            connection.execute("SET lock_timeout = '20s'")
            connection.execute(f"TRUNCATE {', '.join(SCENARIO_TABLES)} CASCADE")
        if not self.gunicorn.alive():
            self.gunicorn.stop()
            self.gunicorn.start()
            self.gunicorn.wait_ready()
        for service in [self.beat, *self.workers]:
            if not service.alive():
                service.start()
        for worker in self.workers:
            worker.wait_ready()
        self.fake.reset()
        self.fake.hang_seconds = 5  # longer than TWILIO_TIMEOUT_SECONDS
        self.fake.callbacks = "in-order"

    def unsettled(self) -> tuple[int, int] | None:
        """Return (texts still pending, messages not final), or None without the database."""
        try:
            with self.postgres.connect(timeout=2) as connection:
                pending = connection.execute(
                    f"SELECT count(*) FROM {InboundMessage._meta.db_table} WHERE outcome = %s",
                    [InboundMessage.Outcome.PENDING],
                ).fetchone()[0]
                open_messages = connection.execute(
                    f"SELECT count(*) FROM {OutboundMessage._meta.db_table} "
                    "WHERE channel = %s AND NOT status = ANY(%s)",
                    [OutboundMessage.Channel.API, list(FINAL)],
                ).fetchone()[0]
        except psycopg.Error:
            return None
        return pending, open_messages

    def statuses(self) -> dict[str, int]:
        """Return how many outbound messages are in each status (for the notes)."""
        try:
            with self.postgres.connect(timeout=2) as connection:
                rows = connection.execute(
                    f"SELECT status, count(*) FROM {OutboundMessage._meta.db_table} GROUP BY status"
                ).fetchall()
        except psycopg.Error:
            return {}
        return dict(rows)
