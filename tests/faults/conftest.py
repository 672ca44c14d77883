"""The fault suite's stack, started once for the module, and the table printed at the end."""

import shutil
import signal
import threading

import pytest
from django.db import connection

from tests.faults.burst import ROWS, plan, table
from tests.faults.stack import FaultStack, postgres_program
from tests.support.services import require_service, worker_database_url


@pytest.fixture(scope="module")
def fault_stack(django_db_setup):
    """Start the private stack (see stack.py); stop all of it, whatever happens, at the end."""
    require_service(
        connection.vendor == "postgresql",
        "the fault suite needs PostgreSQL: set DATABASE_URL to a PostgreSQL database",
    )
    require_service(bool(shutil.which("redis-server")), "the fault suite needs redis-server")
    require_service(
        bool(postgres_program("initdb") and postgres_program("postgres")),
        "the fault suite needs PostgreSQL's server programs (initdb, postgres)",
    )
    stack = FaultStack(worker_database_url())
    # A CI timeout ends the run with SIGTERM, whose default would leave the stack running:
    # turn it into SystemExit so that the finally below stops everything.
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        stack.start()
        variants = [plan(0, repeat_zip=repeat) for repeat in (False, True)]
        scripts = sorted({tuple(texts) for texts_of in variants for texts in texts_of.values()})
        replies = stack.expected_replies([list(texts) for texts in scripts])
        stack.replies_for = dict(zip(scripts, replies, strict=True))
        yield stack
    finally:
        stack.stop()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _exit_on_sigterm(signum, frame):
    raise SystemExit(f"stopped by signal {signum}")


def pytest_terminal_summary(terminalreporter):
    """Print the fault table, so that it shows in CI's output without -s."""
    if not ROWS:
        return
    terminalreporter.write_sep("=", "fault suite")
    for line in table(ROWS):
        terminalreporter.write_line(line)
