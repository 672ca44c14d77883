"""SMS benchmark: PostgreSQL stopped for 15 s in the middle of a burst of 1,000 texts.

Runs on its own: ``.venv/bin/python bench/sms_database_down.py`` (``make bench`` runs it with
the others). Needs PostgreSQL's server programs (initdb, pg_ctl), a migrated PostgreSQL
database in DATABASE_URL and Redis in REDIS_URL; without them it says so and stops. The
database is copied into a private cluster on a free port, and that one is stopped (never the
one DATABASE_URL names). Starts gunicorn (2 workers) and 2 Celery workers x 2 on it and the
fake Twilio server for the replies, sends BENCH_BURST first texts (1000) from as many numbers
at BENCH_RATE a second (33), stops the cluster BENCH_STOP_AFTER seconds in (7.5) for
BENCH_OUTAGE seconds (15), asks for what beat asks for, and prints the webhook's statuses
and answers, how long the texts kept during the outage took to be answered, and whether every
text got its replies exactly once. It asserts nothing.
"""

import glob
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPConnection
from pathlib import Path
from tempfile import TemporaryDirectory
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BURST = int(os.environ.get("BENCH_BURST", "1000"))
RATE = float(os.environ.get("BENCH_RATE", "33"))
STOP_AFTER = float(os.environ.get("BENCH_STOP_AFTER", "7.5"))
OUTAGE = float(os.environ.get("BENCH_OUTAGE", "15"))
CLIENTS = 16
FIRST_TEXT = "hola necesito ayuda"


def main() -> None:
    source = os.environ.get("DATABASE_URL", "")
    if not source.startswith("postgres") or not os.environ.get("REDIS_URL"):
        print("skipped: needs DATABASE_URL=postgres://... and REDIS_URL=redis://...")
        return
    if not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        print("skipped: needs PostgreSQL's server programs (initdb, pg_ctl)")
        return
    env = {**os.environ, "DEBUG": os.environ.get("DEBUG", "true")}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)

    from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio
    from tests.support.services import PrivatePostgres, WebProcess, WorkerProcess

    cluster = PrivatePostgres()
    fake = FakeTwilio().start()
    web = workers = None
    try:
        cluster.start()
        cluster.copy_database(source)
        env.update(
            {
                "DATABASE_URL": cluster.url,
                "SMS_BACKEND": "assistant.delivery.backends.twilio.TwilioBackend",
                "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
                "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                "TWILIO_FROM_NUMBER": FROM_NUMBER,
                "TWILIO_API_BASE_URL": fake.url,
                "SMS_PACE_DEFAULT": "0",
                "SMS_REPLIES_PER_HOUR": "1000000",
                "LOG_LEVEL": "ERROR",
            }
        )
        os.environ.update(env)
        os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
        import django

        django.setup()
        with TemporaryDirectory() as logs:
            web = WebProcess(env, Path(logs) / "web.log")
            env["PUBLIC_BASE_URL"] = web.url
            os.environ["PUBLIC_BASE_URL"] = web.url
            workers = [
                WorkerProcess(env, 2, Path(logs) / f"worker-{index}.log", "replies,celery")
                for index in range(2)
            ]
            web.wait_ready()
            for worker in workers:
                worker.wait_ready(timeout=300)
            run(cluster, web, fake)
    finally:
        for process in [web, *(workers or [])]:
            if process is not None:
                process.stop()
        fake.stop()
        cluster.remove()


def run(cluster, web, fake) -> None:
    import redis
    from django.conf import settings
    from django.db import connection
    from twilio.request_validator import RequestValidator

    from assistant.models import InboundMessage, OutboundMessage
    from assistant.sms.conversation import State, converse
    from assistant.sms.lookup import DbLookup
    from config.celery import app

    spool = redis.Redis.from_url(settings.REDIS_URL)
    spool.delete("replies", "celery", "sms:spool", "sms:spool:processing")
    expected = converse(state=State(), text=FIRST_TEXT, lookup=DbLookup()).replies
    # Rows from the other benchmarks on this database are not this burst's.
    before = InboundMessage.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    connection.close()
    validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)
    numbers = [f"+1212{uuid.uuid4().int % 10**7:07d}" for _ in range(BURST)]
    answers: list[tuple[float, int, str, float]] = []  # (sent at, status, answer, seconds)
    outage = {}
    started = time.monotonic()

    def one(index: int) -> None:
        time.sleep(max(0.0, started + index / RATE - time.monotonic()))
        params = {
            "MessageSid": "SM" + uuid.uuid4().hex,
            "AccountSid": "AC" + "0" * 32,
            "From": numbers[index],
            "To": "+15005550006",
            "Body": FIRST_TEXT,
            "NumMedia": "0",
        }
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": validator.compute_signature(web.url + "/sms/inbound", params),
        }
        sent = time.monotonic()
        try:
            http = HTTPConnection("127.0.0.1", web.port, timeout=30)
            http.request("POST", "/sms/inbound", urlencode(params), headers)
            response = http.getresponse()
            body = response.read().decode()
            status = response.status
        except OSError:
            status, body = 0, ""
        if "Recibimos su mensaje" in body:
            kind = "answer is coming"
        elif "Lo sentimos" in body:
            kind = "send it again"
        elif "<Message>" in body:
            kind = "other reply"
        else:
            kind = "empty"
        answers.append((sent - started, status, kind, time.monotonic() - sent))

    def stop_and_start() -> None:
        time.sleep(STOP_AFTER)
        outage["stopped"] = time.monotonic() - started
        cluster.stop()
        time.sleep(OUTAGE)
        cluster.start()
        outage["started"] = time.monotonic() - started

    stopper = threading.Thread(target=stop_and_start)
    stopper.start()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(one, range(BURST)))
    stopper.join()
    burst_end = time.monotonic() - started

    during = [a for a in answers if outage["stopped"] <= a[0] < outage["started"]]
    print(
        f"\n== {BURST} first texts at {RATE:g}/s; PostgreSQL stopped at {outage['stopped']:.1f} s "
        f"for {outage['started'] - outage['stopped']:.1f} s; gunicorn 2 workers, Celery 2 x 2 =="
    )
    print(f"webhook statuses: {dict(Counter(a[1] for a in answers))}")
    print(f"webhook answers:  {dict(Counter(a[2] for a in answers))}")
    print(f"sent while stopped: {len(during)}, statuses {dict(Counter(a[1] for a in during))}")
    latencies = sorted(a[3] * 1000 for a in answers)
    print(
        f"webhook latency: p50 {statistics.median(latencies):.1f} ms, "
        f"p99 {latencies[int(len(latencies) * 0.99) - 1]:.1f} ms, max {latencies[-1]:.1f} ms"
    )
    print(f"kept in the spool at the end of the burst: {spool.llen('sms:spool')}")

    # Beat's jobs: the drain every 5 s; the requeues every minute (they act on what waited
    # INBOUND_REQUEUE_AFTER_SECONDS / SMS_REQUEUE_AFTER_SECONDS).
    app.conf.task_always_eager = False
    deadline = time.monotonic() + 15 * 60
    tick = 0
    answered_at = drained_at = None
    print("seconds  spooled  recorded  pending  replies-unsent  replies-at-Twilio")
    while time.monotonic() < deadline:
        if tick % 5 == 0:
            app.send_task("assistant.tasks.inbound_spool_drain", queue="replies")
        if tick % 60 == 0:
            app.send_task("assistant.tasks.inbound_requeue_stale")
            app.send_task("assistant.tasks.requeue_stale")
        tick += 1
        time.sleep(1)
        try:
            burst = InboundMessage.objects.filter(pk__gt=before)
            pending = burst.filter(outcome="pending").count()
            recorded = burst.count()
            unsent = OutboundMessage.objects.filter(status__in=["queued", "sending"]).count()
        except Exception:  # noqa: BLE001 (a bench keeps going)
            continue
        finally:
            connection.close()
        now = time.monotonic() - started
        waiting = spool.llen("sms:spool") + spool.llen("sms:spool:processing")
        if not waiting and drained_at is None:
            drained_at = now
        if tick % 10 == 0:
            print(f"{now:7.0f}  {waiting:7}  {recorded:8}  {pending:7}  {unsent:14}  "
                  f"{len(fake.accepted):17}")  # fmt: skip
        if recorded == BURST and not pending and not waiting and not unsent:
            answered_at = now
            break
    if drained_at is not None:
        print(f"spool empty {drained_at - outage['started']:.1f} s after PostgreSQL was back")
    received = Counter(m["to"] for m in fake.accepted)
    right = sum(1 for n in numbers if received[n] == len(expected))
    print(f"rows recorded {recorded}, still pending {pending}, replies not sent yet {unsent}")
    if answered_at is not None:
        print(
            f"every text recorded and answered {answered_at - outage['started']:.1f} s after "
            f"PostgreSQL was back ({answered_at - burst_end:.1f} s after the burst ended)"
        )
    print(
        f"replies at Twilio: {len(fake.accepted)} for {BURST} texts ({len(expected)} each); "
        f"numbers with exactly their replies: {right}; with more: "
        f"{sum(1 for n in numbers if received[n] > len(expected))}; with none: "
        f"{sum(1 for n in numbers if received[n] == 0)}"
    )


if __name__ == "__main__":
    main()
