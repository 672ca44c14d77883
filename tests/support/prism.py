"""Prism, the mock of Twilio's API built from Twilio's own OpenAPI description (npm)."""

import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.services import require_service

ROOT = Path(__file__).resolve().parent.parent.parent
PRISM = ROOT / "node_modules" / ".bin" / "prism"
SPEC = ROOT / "node_modules/@twilio-alpha/mcp/twilio-oai/spec/json/twilio_api_v2010.json"


@pytest.fixture(scope="session")
def prism():
    """Start Prism on a free loopback port; return its URL."""
    require_service(PRISM.exists() and SPEC.exists(), "needs `npm ci` (make test runs it)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = open(f"/tmp/prism-{port}.log", "w+b")  # noqa: SIM115
    process = subprocess.Popen(
        [str(PRISM), "mock", str(SPEC), "--host", "127.0.0.1", "--port", str(port), "--errors"],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if process.poll() is not None:
                log.seek(0)
                pytest.fail(f"Prism exited: {log.read().decode(errors='replace')[-2000:]}")
            time.sleep(0.3)
    else:
        process.kill()
        pytest.fail("Prism did not start in 90 s")
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(10)
    log.close()
