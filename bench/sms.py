"""SMS benchmark: webhook latency and throughput beside a bare view, and segments per reply.

Runs on its own: ``.venv/bin/python bench/sms.py`` (``make bench`` runs it with the others).
It migrates the database named by DATABASE_URL, starts gunicorn on loopback with
bench/settings.py (the project's settings, a bare Django view added, replies kept in memory)
and prints figures; it asserts nothing.
"""

import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
os.environ.setdefault("DEBUG", "true")

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "300"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "4"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    env = {**os.environ, "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"}
    command = [
        sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}",
        "-w", str(WORKERS), "--log-level", "warning",
    ]  # fmt: skip
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/bench/floor")
            if connection.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not start")


def run(port: int, make_request) -> tuple[list[float], float, dict[int, int]]:
    statuses: dict[int, int] = {}

    def one(index: int) -> float:
        method, path, body, headers = make_request(index)
        connection = HTTPConnection("127.0.0.1", port, timeout=30)
        started = time.perf_counter()
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        elapsed = time.perf_counter() - started
        statuses[response.status] = statuses.get(response.status, 0) + 1
        connection.close()
        return elapsed

    started = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        latencies = list(pool.map(one, range(REQUESTS)))
    return latencies, time.perf_counter() - started, statuses


def report(name: str, latencies: list[float], wall: float, statuses: dict[int, int]) -> None:
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    print(
        f"{name:<22} p50 {p50:7.1f} ms   p99 {p99:7.1f} ms   "
        f"{len(latencies) / wall:7.1f} req/s   statuses {statuses}"
    )


def latency_bench() -> None:
    from django.conf import settings
    from twilio.request_validator import RequestValidator

    port = free_port()
    server = start_server(port)
    validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)
    texts = ["hello I need help", "11040", "1", "2", "hola", "nassau county, ny", "3"]
    try:

        def bare(index):
            return "GET", "/bench/floor", None, {}

        def webhook(index):
            params = {
                "MessageSid": "SM" + uuid.uuid4().hex,
                "AccountSid": "AC" + "0" * 32,
                "From": f"+1516555{index // len(texts):04d}",
                "To": "+15005550006",
                "Body": texts[index % len(texts)],
                "NumMedia": "0",
            }
            url = f"http://127.0.0.1:{port}/sms/inbound"
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": validator.compute_signature(url, params),
            }
            return "POST", "/sms/inbound", urlencode(params), headers

        run(port, bare)  # warm up both workers
        print(f"\n== Webhook vs bare view: gunicorn {WORKERS} workers, {CONCURRENCY} clients, "
              f"{REQUESTS} requests each ==")  # fmt: skip
        report("bare Django view", *run(port, bare))
        report("POST /sms/inbound", *run(port, webhook))
    finally:
        server.terminate()
        server.wait(10)


def segments_bench() -> None:
    import datetime

    from django.db import transaction

    from assistant.delivery.segments import count_segments
    from assistant.models import Agency, Agreement, Place
    from assistant.sms.conversation import State, converse
    from assistant.sms.language import LANGUAGE_CODES
    from assistant.sms.lookup import DbLookup

    print("\n== Segments per reply, per language (every kind of reply) ==")
    print(f"{'language':<9} {'replies':>7} {'bodies':>6} {'segments':>8} {'per reply':>9} "
          f"{'max/body':>8}  encodings")  # fmt: skip
    with transaction.atomic():
        county = Place.objects.get(state__abbreviation="NM", name="Doña Ana County")
        agency = Agency.objects.create(name="Bench Sheriff", place=county, state=county.state)
        for model in Agreement.EnforcementModel.values:
            Agreement.objects.create(
                agency=agency, enforcement_model=model, signed_on=datetime.date(2020, 1, 1)
            )
        for language in LANGUAGE_CODES:
            lookup = DbLookup()
            turns = []
            base = State(language=language)
            script = [
                (State(), "hola necesito ayuda" if language == "es" else "hello"),
                (base, "HELP"),
                (base, "0"),
                (base, "blah"),
                (base, "11040"),
                (base, "Doña Ana County, NM"),
            ]
            for state, text in script:
                turns.append(converse(state=state, text=text, lookup=lookup))
            placed = turns[-1].state
            for text in ("1", "2", "3", "4", "xyz", "DELETE"):
                turns.append(converse(state=placed, text=text, lookup=lookup))
            bodies = [body for turn in turns for body in turn.replies]
            counts = [count_segments(body) for body in bodies]
            total = sum(c.segments for c in counts)
            encodings = sorted({c.encoding for c in counts})
            print(f"{language:<9} {len(turns):>7} {len(bodies):>6} {total:>8} "
                  f"{total / len(turns):>9.2f} {max(c.segments for c in counts):>8}  "
                  f"{'/'.join(encodings)}")  # fmt: skip
        transaction.set_rollback(True)


def main() -> None:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    latency_bench()
    segments_bench()


if __name__ == "__main__":
    main()
