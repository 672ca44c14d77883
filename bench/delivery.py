"""Benchmark: messages per second through the delivery queue, with pacing off and on.

Runs real Celery workers on REDIS_URL and the database in DATABASE_URL (migrated first),
sending through the twilio library to the fake Twilio server of the tests, on loopback.
Prints figures; asserts nothing. Usage: ``python bench/delivery.py [--messages 500]``.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def run(label: str, *, messages: int, pace: float, workers: int, concurrency: int) -> None:
    from django.conf import settings

    from assistant.delivery.services import outbound_queue
    from assistant.models import OutboundMessage
    from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio

    fake = FakeTwilio().start()
    env = {
        **os.environ,
        "SMS_BACKEND": "assistant.delivery.backends.twilio.TwilioBackend",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "TWILIO_API_BASE_URL": fake.url,
        "SMS_PACE_DEFAULT": str(pace),
    }
    settings.SMS_BACKEND = env["SMS_BACKEND"]
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = ACCOUNT_SID, AUTH_TOKEN
    settings.TWILIO_FROM_NUMBER, settings.TWILIO_API_BASE_URL = FROM_NUMBER, fake.url
    import redis

    redis.Redis.from_url(settings.REDIS_URL).delete("celery", "replies", f"kyp:pace:{FROM_NUMBER}")
    procs = []
    for index in range(workers):
        command = [
            sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel=WARNING",
            f"--concurrency={concurrency}", "--without-gossip", "--without-mingle",
            "--without-heartbeat", "-n", f"bench{index}-{os.getpid()}@%h",
        ]  # fmt: skip
        procs.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL))
    time.sleep(6)  # let the workers come up before the clock starts
    try:
        start = time.monotonic()
        ids = [
            outbound_queue(to=f"+1555{n:07d}", body=f"Bench message {n}.", purpose="bench").pk
            for n in range(messages)
        ]
        queued = time.monotonic() - start
        sent = 0
        while time.monotonic() - start < 600:
            sent = OutboundMessage.objects.filter(
                pk__in=ids, status=OutboundMessage.Status.SENT
            ).count()
            if sent == len(ids):
                break
            time.sleep(0.2)
        elapsed = time.monotonic() - start
        times = sorted(m["time"] for m in fake.accepted)
        span = (times[-1] - times[0]) if len(times) > 1 else 0.0
        rate = (len(times) - 1) / span if span else float("nan")
        pace_text = f"pace {pace:g} segments/s" if pace else "pacing off"
        print(
            f"{label}: {messages} messages, {workers} workers x {concurrency}, {pace_text}: "
            f"queued in {queued:.1f} s, all sent in {elapsed:.1f} s "
            f"({len(ids) / elapsed:.1f} msg/s end to end; {rate:.1f} msg/s at Twilio), "
            f"sent {sent}/{messages}, sends at Twilio {len(fake.accepted)}"
        )
        OutboundMessage.objects.filter(pk__in=ids).delete()
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(30)
        fake.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--pace", type=float, default=20.0)
    args = parser.parse_args()
    if not os.environ.get("REDIS_URL") or "postgres" not in os.environ.get("DATABASE_URL", ""):
        print(
            "skipped: delivery through workers (needs PostgreSQL and Redis: "
            "DATABASE_URL=postgres://... REDIS_URL=redis://... make bench)"
        )
        return
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    run("pacing off", messages=args.messages, pace=0, workers=2, concurrency=2)
    run("pacing on", messages=min(args.messages, 200), pace=args.pace, workers=2, concurrency=2)


if __name__ == "__main__":
    main()
