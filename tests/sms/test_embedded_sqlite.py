"""The embedded default (make run: a SQLite file, no Redis) answers texts sent at once.

It runs in a subprocess of its own: the suite's database may be PostgreSQL, and the point is
a real SQLite file shared by several threads, as under ``runserver``.
"""

import json
import os
import subprocess
import sys

from tests.support.services import ROOT

SCRIPT = r"""
import json, threading, uuid
import django
django.setup()
from django.core.management import call_command
from django.db import connection
from django.test import Client

from assistant.delivery.backends import locmem
from assistant.sms.conversation import State, converse
from assistant.sms.lookup import DbLookup
from tests.sms_signing import signed_post

call_command("migrate", verbosity=0)
texts = ["hola necesito ayuda", "11550"]
state, expected = State(), []
for body in texts:
    turn = converse(state=state, text=body, lookup=DbLookup())
    state, expected = turn.state, expected + [r for r in turn.replies if r]
numbers = [f"+1516555{i:04d}" for i in range(12)]
barrier = threading.Barrier(len(numbers))
statuses, errors = [], []

def resident(number):
    try:
        client = Client()
        barrier.wait()
        for body in texts:
            params = {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": "AC" + "0" * 32,
                      "From": number, "To": "+15005550006", "Body": body, "NumMedia": "0"}
            statuses.append(signed_post(client, "/sms/inbound", params).status_code)
    except BaseException as exc:
        errors.append(repr(exc))
    finally:
        connection.close()

threads = [threading.Thread(target=resident, args=(n,)) for n in numbers]
for t in threads:
    t.start()
for t in threads:
    t.join()
received = {n: [m.body for m in locmem.outbox if m.to == n] for n in numbers}
print("RESULT " + json.dumps({"expected": expected, "received": received,
                              "statuses": statuses, "errors": errors}))
"""


def test_texts_sent_at_once_to_the_embedded_default_all_get_their_replies(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("REDIS_URL", "DATABASE_URL") and not key.startswith("PYTEST_")
    }
    env.update(
        {
            "DEBUG": "true",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "SMS_BACKEND": "assistant.delivery.backends.locmem.LocmemBackend",
            "TWILIO_AUTH_TOKEN": "test-auth-token-for-signatures",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "ALLOWED_HOSTS": "testserver",
        }
    )
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "journal_mode=wal" in run.stderr, "the start-up log line says what was set"
    result = json.loads(run.stdout.split("RESULT ", 1)[1])
    assert result["errors"] == [] and set(result["statuses"]) == {200}
    for number, replies in result["received"].items():
        assert replies == result["expected"], number
