#!/usr/bin/env python
"""Benchmark the residents' site through gunicorn on loopback.

Prints the place page's throughput and p50/p99 latency under concurrency, beside a bare
Django view served by the same gunicorn (the floor), the ratio between them, and the
compressed size of each page type. Runs on its own: ``.venv/bin/python bench/site.py``.
Uses a throwaway SQLite database unless BENCH_DATABASE_URL is set; the cache is Redis when
REDIS_URL is set (as in production), else each worker's memory.
"""

import gzip
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "8"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "2000"))
TIME_LIMIT = float(os.environ.get("BENCH_SECONDS", "20"))
WORKERS = os.environ.get("BENCH_WORKERS", "2")

PAGE_TYPES = {
    "home": "/en/",
    "place (county, with agreements)": "/en/places/ny/nassau-county/",
    "place in Arabic": "/ar/places/ny/nassau-county/",
    "state": "/en/places/ny/",
    "search choices": "/en/search?q=11001",
    "explainer 287(g)": "/en/287g",
    "privacy": "/en/privacy",
    "404": "/en/no-such-page",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bench_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DEBUG": "false",
            "SECRET_KEY": "bench-only-secret-key-0123456789abcdef0123456789abcdef",
            "ALLOWED_HOSTS": "127.0.0.1",
            "PUBLIC_BASE_URL": "https://bench.invalid",
            "PHONE_HASH_KEY": "bench-only-phone-hash-key",
            "FIELD_ENCRYPTION_KEY": "YmVuY2gtb25seS1maWVsZC1rZXktMzItYnl0ZXMhISE=",
            "SECURE_SSL_REDIRECT": "false",
            "SECURE_PROXY_SSL_HEADER_ENABLED": "false",
            "SECURE_HSTS_SECONDS": "0",
            "DATABASE_URL": os.environ.get(
                "BENCH_DATABASE_URL", "sqlite:////tmp/kyp-bench.sqlite3"
            ),
            "LOG_LEVEL": "WARNING",
        }
    )
    return env


def manage(env, *args):
    subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip


def seed(env):
    """Give Nassau County two agreements so its page shows a realistic answer."""
    code = (
        "import datetime, django; django.setup()\n"
        "from assistant.models import Agency, Agreement, Place\n"
        "n = Place.objects.get(state__abbreviation='NY', name='Nassau County')\n"
        "for name, model in [('Nassau County Police Department', 'task_force'),"
        " (\"Nassau County Sheriff's Office\", 'warrant')]:\n"
        "    a, _ = Agency.objects.get_or_create(name=name, state=n.state, place=n)\n"
        "    Agreement.objects.get_or_create(agency=a, enforcement_model=model,"
        " defaults={'signed_on': datetime.date(2025, 2, 28)})\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (loopback)
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def load(url: str) -> dict:
    """Send REQUESTS requests from CONCURRENCY threads (bounded in count and time)."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    remaining = [REQUESTS]
    deadline = time.monotonic() + TIME_LIMIT

    def worker():
        nonlocal errors
        while time.monotonic() < deadline:
            with lock:
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
            start = time.perf_counter()
            status, _body = fetch(url)
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed)
                if status != 200:
                    errors += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(CONCURRENCY)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / wall,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


def main():
    env = bench_env()
    print("==> Preparing a benchmark database and static files")
    manage(env, "migrate", "--noinput")
    manage(env, "collectstatic", "--noinput")
    seed(env)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind",
         f"127.0.0.1:{port}", "--workers", WORKERS, "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                if fetch(f"{base}/bench/floor")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise SystemExit("gunicorn did not start")
        print(f"==> gunicorn, {WORKERS} workers; {CONCURRENCY} concurrent clients; "
              f"up to {REQUESTS} requests or {TIME_LIMIT:.0f} s each")  # fmt: skip
        place_url = f"{base}{PAGE_TYPES['place (county, with agreements)']}"
        fetch(place_url)  # the first request renders and caches the page
        results = {}
        for name, url in [("floor (bare Django view)", f"{base}/bench/floor"),
                          ("place page", place_url)]:  # fmt: skip
            results[name] = load(url)
            r = results[name]
            print(f"{name:26} {r['rps']:8.0f} req/s  p50 {r['p50']:6.1f} ms  "
                  f"p99 {r['p99']:6.1f} ms  "
                  f"({r['requests']} requests, {r['errors']} errors)")  # fmt: skip
        floor, page = results["floor (bare Django view)"], results["place page"]
        print(f"place page / floor: throughput {page['rps'] / floor['rps']:.2f}, "
              f"p50 latency {page['p50'] / floor['p50']:.2f}x")  # fmt: skip
        print("==> Compressed size (gzip -9) of each page type")
        css_status, css = fetch(f"{base}/static/css/site.css")
        css_gz = len(gzip.compress(css, 9))
        for name, path in PAGE_TYPES.items():
            status, body = fetch(f"{base}{path}")
            size = len(gzip.compress(body, 9))
            print(f"{name:34} HTTP {status}  {len(body):6} B raw  {size:5} B gz  "
                  f"(+ CSS {css_gz} B gz = {size + css_gz} B)")  # fmt: skip
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
