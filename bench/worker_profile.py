"""Where a worker's time goes per message: cProfile of answering texts and delivering replies.

In process, against the fake Twilio of the tests (the real ``twilio`` library over loopback),
on DATABASE_URL and REDIS_URL; tasks are queued, not run, so the profile holds only the
worker's own work (``inbound_answer`` then ``outbound_deliver``), not Celery's. Prints
milliseconds per message by part; asserts nothing. Needs PostgreSQL and Redis.
"""

import cProfile
import os
import pstats
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")

MESSAGES = int(os.environ.get("BENCH_PROFILE_MESSAGES", "200"))

# Parts of the work, by the function whose cumulative time is the part's.
PARTS = {
    "conversation (pure)": ("assistant/sms/conversation.py", "converse"),
    "Twilio API call (twilio library, HTTP)": ("assistant/delivery/backends/twilio.py", "send"),
    "encryption (Fernet)": ("cryptography/fernet.py", "_encrypt_from_parts"),
    "decryption (Fernet)": ("cryptography/fernet.py", "decrypt"),
    "SQL: execute": ("django/db/backends/utils.py", "_execute"),
    "SQL: commit": ("django/db/backends/base/base.py", "commit"),
    "enqueue the next task (Redis)": ("celery/app/task.py", "apply_async"),
    "Redis cache (loop guard, counters)": ("django/core/cache/backends/redis.py", "get"),
}


def main() -> None:
    if not os.environ.get("REDIS_URL") or "postgres" not in os.environ.get("DATABASE_URL", ""):
        print(
            "skipped: the worker profile (needs PostgreSQL and Redis: "
            "DATABASE_URL=postgres://... REDIS_URL=redis://... make bench)"
        )
        return
    import django

    django.setup()
    import redis
    from django.conf import settings
    from django.core.management import call_command

    from assistant.delivery.sending import outbound_deliver
    from assistant.models import OutboundMessage
    from assistant.places.search import default_gazetteer
    from assistant.sms.services import inbound_accept
    from assistant.sms.tasks import inbound_answer
    from config.celery import app
    from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio

    call_command("migrate", verbosity=0)
    fake = FakeTwilio().start()
    settings.SMS_BACKEND = "assistant.delivery.backends.twilio.TwilioBackend"
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = ACCOUNT_SID, AUTH_TOKEN
    settings.TWILIO_FROM_NUMBER, settings.TWILIO_API_BASE_URL = FROM_NUMBER, fake.url
    settings.SMS_PACE_DEFAULT = 0
    settings.SMS_REPLIES_PER_HOUR = 1_000_000
    app.conf.task_always_eager = False
    run = uuid.uuid4().int % 10**3
    ids = [
        inbound_accept(sid="SM" + uuid.uuid4().hex, from_number=f"+1717{run:03d}{n:04d}",
                       body="hola necesito ayuda").pk
        for n in range(MESSAGES)
    ]  # fmt: skip
    # Built once per process, as in a worker that has answered a text before.
    default_gazetteer()
    last = OutboundMessage.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    for inbound_id in ids:
        inbound_answer.run(inbound_id)
    # The worker that answers a text sends its first reply itself; any other is left queued.
    queued = OutboundMessage.objects.filter(pk__gt=last, status=OutboundMessage.Status.QUEUED)
    for message_id in queued.values_list("pk", flat=True):
        outbound_deliver(message_id=message_id)
    profile.disable()
    wall = time.perf_counter() - started
    redis.Redis.from_url(settings.REDIS_URL).delete("replies", "celery")
    fake.stop()
    stats = pstats.Stats(profile).stats
    print(f"== One worker process, {MESSAGES} first texts from {MESSAGES} numbers answered and "
          "their replies sent ==")  # fmt: skip
    print(f"{'total (wall, profiled)':<40} {wall / MESSAGES * 1000:6.2f} ms per message")
    for name, (path, function) in PARTS.items():
        cumulative = sum(
            value[3]
            for (filename, _line, func), value in stats.items()
            if filename.endswith(path) and func == function
        )
        print(f"{name:<40} {cumulative / MESSAGES * 1000:6.2f} ms per message")


if __name__ == "__main__":
    main()
