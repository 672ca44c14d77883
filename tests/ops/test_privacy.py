"""Nothing a resident sent or was sent, and no phone number, is kept in plain text.

Scripted conversations in several languages through the signed webhook, subscriptions, an
import that changes the county's answer, an alert approved by a Reviewer and sent; then the
whole database (pg_dump), every Redis key and value, and every log line are searched.
"""

import io
import logging
import os
import shutil
import subprocess
import uuid

import pytest
import redis
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection

from assistant.alerts.services import alert_approve, alert_create_from_flag
from assistant.delivery.backends import locmem
from assistant.models import Alert, ReviewFlag, Subscription
from tests.factories import UserFactory, place
from tests.privacy_checks import assert_no_phone_number
from tests.sms_signing import signed_post
from tests.support.services import require_service

# (number, what the resident writes, in order); each first message is distinctive on purpose.
RESIDENTS = {
    "+15165550141": ["hola, mi hermana Rocío necesita ayuda con la policía", "11501", "ALERTAS"],
    "+15165550142": ["xin chào, anh trai tôi Nguyễn Văn Bảo bị cảnh sát hỏi", "11501", "SUBSCRIBE"],
    "+15165550143": ["مرحبا، أخي يوسف يحتاج مساعدة مع الشرطة", "11501", "SUBSCRIBE"],
    "+15165550144": ["hello, my neighbor Marisol was stopped by police", "11501", "SUBSCRIBE"],
}
ALERT_ES = "Aviso del equipo Girasol: la policia del condado firmo un acuerdo. STOP para parar."
IMPORT_CSV = (
    "STATE,LAW ENFORCEMENT AGENCY,TYPE,COUNTY,SUPPORT TYPE,SIGNED,MOA\n"
    "NEW YORK,Nassau County Police Department,County,Nassau County,Task Force Model,"
    "03/10/2025,link\n"
)


def pg_dump_text() -> str:
    """Return the whole test database as pg_dump writes it (schema and data)."""
    require_service(connection.vendor == "postgresql", "pg_dump needs PostgreSQL")
    pg_dump = shutil.which("pg_dump")
    require_service(pg_dump is not None, "needs pg_dump on PATH")
    s = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": s.get("PASSWORD") or ""}
    command = [
        pg_dump, "--no-owner",
        "-h", s.get("HOST") or "127.0.0.1", "-p", str(s.get("PORT") or 5432),
        "-U", s.get("USER") or "postgres", s["NAME"],
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout.decode(errors="replace")


def redis_text(client: redis.Redis) -> str:
    """Return every key and value in the Redis database, whatever its type, as text."""
    parts = []
    for key in client.scan_iter(count=500):
        kind = client.type(key).decode()
        if kind == "string":
            values = [client.get(key)]
        elif kind == "list":
            values = client.lrange(key, 0, -1)
        elif kind == "hash":
            values = [b for pair in client.hgetall(key).items() for b in pair]
        elif kind == "set":
            values = list(client.smembers(key))
        elif kind == "zset":
            values = client.zrange(key, 0, -1)
        else:
            values = [repr(client.dump(key)).encode()]
        parts.append(key)
        parts.extend(value or b"" for value in values)
    return "\n".join(part.decode("utf-8", errors="replace") for part in parts)


def assert_absent(text: str, numbers, texts, where: str) -> None:
    assert_no_phone_number(text, numbers, where)
    for sent in texts:
        assert sent not in text, f"{sent[:40]!r}… appears in {where}"


def test_no_number_or_message_text_is_kept_in_plain_text(
    transactional_db, loaded_places, client, settings, caplog, redis_url, tmp_path
):
    caplog.set_level(logging.DEBUG)  # every logger, every level
    settings.TWILIO_AUTH_TOKEN = "test-auth-token-for-signatures"
    settings.SMS_BACKEND = "assistant.delivery.backends.locmem.LocmemBackend"
    locmem.outbox.clear()
    store = redis.Redis.from_url(redis_url)
    nassau = place("NY", "Nassau County")

    for number, messages in RESIDENTS.items():
        for body in messages:
            params = {
                "MessageSid": "SM" + uuid.uuid4().hex,
                "AccountSid": "AC" + "0" * 32,
                "From": number,
                "To": "+15005550006",
                "Body": body,
                "NumMedia": "0",
            }
            assert signed_post(client, "/sms/inbound", params).status_code == 200
    subscriptions = Subscription.objects.filter(place=nassau)
    assert subscriptions.count() == len(RESIDENTS)
    assert {"es", "vi", "ar", "en"} <= set(subscriptions.values_list("language", flat=True))

    # The import turns Nassau's answer to yes; the organizers write and approve the alert.
    path = tmp_path / "ice.csv"
    path.write_text(IMPORT_CSV)
    call_command("import_287g", str(path), "--as-of", "2025-05-16", stdout=io.StringIO())
    flag = ReviewFlag.objects.get(place=nassau, reason=ReviewFlag.Reason.ANSWER_CHANGED)
    author = UserFactory(username="author")
    reviewer = UserFactory(username="reviewer")
    reviewer.groups.add(Group.objects.get_or_create(name="Reviewer")[0])
    alert = alert_create_from_flag(flag=flag, user=author)
    alert.texts.filter(language="es").update(body=ALERT_ES)
    alert_approve(alert=alert, user=reviewer)  # eager: sent when this commits
    alert.refresh_from_db()
    assert alert.status == Alert.Status.SENT

    sent_to = {message.to for message in locmem.outbox}
    assert set(RESIDENTS) <= sent_to
    replies = {message.body for message in locmem.outbox}
    assert ALERT_ES in replies
    numbers = list(RESIDENTS)
    resident_texts = [messages[0] for messages in RESIDENTS.values()]
    # Every reply and alert body, except the organizers' own alert drafts (checked below).
    sent_texts = [body for body in replies if len(body) > 20]
    alert_texts = set(alert.texts.values_list("body", flat=True))
    assert alert_texts & replies, "the alert's texts went out"

    # The search can fail: a number planted in Redis is found, in its national spelling.
    store.set("privacy-test:planted", "call 516-555-0141 back")
    with pytest.raises(AssertionError, match="516-555-0141"):
        assert_absent(redis_text(store), numbers, [], "Redis")
    store.delete("privacy-test:planted")

    dump = pg_dump_text()
    assert "assistant_subscription" in dump and "Nassau County" in dump  # a real, full dump
    # The approved alert's drafts are the organizers' text, kept in their own table only.
    alert_table = dump.index("COPY public.assistant_alerttext")
    alert_table_end = dump.index("\\.\n", alert_table)
    without_drafts = dump[:alert_table] + dump[alert_table_end:]
    assert_absent(dump, numbers, resident_texts, "the database dump")
    assert_absent(without_drafts, [], sent_texts, "the database dump")

    assert_absent(redis_text(store), numbers, resident_texts + sent_texts, "Redis")

    logs = caplog.text + "\n".join(record.getMessage() for record in caplog.records)
    assert len(caplog.records) > 0
    assert_absent(logs, numbers, resident_texts + sent_texts, "the logs")
