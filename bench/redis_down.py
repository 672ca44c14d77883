"""The SMS webhook with Redis (broker and cache) down: how fast texts are answered in TwiML.

Runs on its own: ``.venv/bin/python bench/redis_down.py`` (``make bench`` runs it with the
others). It starts a redis-server of its own on a free port (the shared one is never
touched), gunicorn on it with bench/settings.py, then sends first texts from new numbers
with Redis up (queued), twice with Redis stopped (refusing connections: the first round
also pays each web process's first conversation) and with Redis frozen (SIGSTOP:
connections hang). It prints the answer times, the statuses and how
many answers carried the replies in TwiML; it asserts nothing. Twilio waits 15 seconds.
Needs redis-server on PATH; BENCH_DOWN_TEXTS sets the texts per round (100).
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPConnection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sms import free_port, report, signed_text, start_server  # noqa: E402

TEXTS = int(os.environ.get("BENCH_DOWN_TEXTS", "100"))
CLIENTS = 4


def start_redis(port: int, data_dir: str) -> subprocess.Popen:
    import redis

    command = [
        "redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
        "--appendonly", "yes", "--dir", data_dir,
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    for _ in range(200):
        try:
            client.ping()
            return process
        except (redis.ConnectionError, redis.BusyLoadingError):
            time.sleep(0.05)
    raise SystemExit("redis-server did not start")


def main() -> None:
    if not shutil.which("redis-server"):
        print("skipped: needs redis-server on PATH")
        return
    redis_port = free_port()
    os.environ["REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"

    import django
    from django.conf import settings
    from django.core.management import call_command
    from twilio.request_validator import RequestValidator

    django.setup()
    call_command("migrate", verbosity=0)
    data_dir = tempfile.mkdtemp(prefix="bench-redis-")
    redis_server = start_redis(redis_port, data_dir)
    port = free_port()
    server = start_server(port)
    validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)

    def round_(name: str, prefix: str, note: str) -> None:
        latencies, statuses, in_twiml = [], {}, 0

        def one(index: int) -> None:
            nonlocal in_twiml
            method, path, body, headers = signed_text(
                validator, port, f"+1{prefix}{index:07d}", "hola necesito ayuda"
            )
            connection = HTTPConnection("127.0.0.1", port, timeout=60)
            started = time.perf_counter()
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            content = response.read()
            latencies.append(time.perf_counter() - started)
            statuses[response.status] = statuses.get(response.status, 0) + 1
            in_twiml += b"<Message>" in content
            connection.close()

        started = time.perf_counter()
        with ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(one, range(TEXTS)))
        report(name, latencies, time.perf_counter() - started, statuses)
        print(f"{'':<22} slowest {max(latencies) * 1000:7.1f} ms   {note}: {in_twiml}")

    try:
        print(
            f"\n== {TEXTS} first texts from new numbers, {CLIENTS} clients, gunicorn; "
            "Twilio waits 15 s =="
        )
        round_("warm-up", "200", "replies in the TwiML")
        round_("Redis up", "201", "replies in the TwiML (none: queued)")
        redis_server.terminate()
        redis_server.wait(10)
        round_("Redis stopped", "202", "replies in the TwiML")
        round_("Redis still stopped", "204", "replies in the TwiML")
        redis_server = start_redis(redis_port, data_dir)
        redis_server.send_signal(signal.SIGSTOP)
        round_("Redis frozen", "203", "replies in the TwiML")
        redis_server.send_signal(signal.SIGCONT)
    finally:
        server.terminate()
        server.wait(10)
        redis_server.send_signal(signal.SIGCONT)
        redis_server.terminate()
        redis_server.wait(10)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
