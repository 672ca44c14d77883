"""The webhook and the worker reach PostgreSQL in as few round trips as they can (issue 15).

Under a burst the webhook mostly waits on PostgreSQL: each statement it saves is throughput.
These tests pin what each step sends, and that the single statements still do all the steps
they replace (the duplicate sid, the conversation's lock, the opt-out, the subscriptions).
"""

import uuid

import psycopg
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from assistant.models import Conversation, InboundMessage, OptOut
from assistant.privacy import phone_hash
from assistant.sms import services
from assistant.sms.subscriptions import subscription_create
from tests.factories import place

pytestmark = pytest.mark.django_db

NUMBER = "+15165550177"


@pytest.fixture(autouse=True)
def on_postgres(postgres):
    """These statements are PostgreSQL's; SQLite keeps the ORM's steps (make run)."""


def test_the_webhook_records_a_text_in_one_statement_and_knows_a_sid_it_has_seen():
    sid = "SM" + uuid.uuid4().hex

    with CaptureQueriesContext(connection) as queries:
        recorded = services.inbound_accept(sid=sid, from_number=NUMBER, body="hola")

    assert len(queries.captured_queries) == 1
    assert "ON CONFLICT" in queries.captured_queries[0]["sql"]
    stored = InboundMessage.objects.get(sid=sid)
    assert recorded.pk == stored.pk
    assert stored.outcome == InboundMessage.Outcome.PENDING
    assert stored.phone_hash == phone_hash(NUMBER)
    assert NUMBER not in stored.number_encrypted and "hola" not in stored.body_encrypted
    assert stored.received_at is not None

    # Twilio's retry of a text still pending gets the same row (it must be answered) ...
    again = services.inbound_accept(sid=sid, from_number=NUMBER, body="hola")
    assert again.pk == stored.pk
    # ... and, once answered, nothing: it is never answered twice.
    InboundMessage.objects.filter(pk=stored.pk).update(outcome=InboundMessage.Outcome.ANSWERED)
    assert services.inbound_accept(sid=sid, from_number=NUMBER, body="hola") is None
    assert InboundMessage.objects.filter(sid=sid).count() == 1


def test_the_worker_locks_the_conversation_with_its_opt_out_and_subscriptions_in_one_statement(
    loaded_places,
):
    hashed = phone_hash(NUMBER)
    nassau, suffolk = place("NY", "Nassau County"), place("NY", "Suffolk County")
    subscription_create(number=NUMBER, place_id=suffolk.pk, language="es")
    subscription_create(number=NUMBER, place_id=nassau.pk, language="es")

    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        new = services._conversation_locked(hashed)
    assert len(queries.captured_queries) == 1
    assert new.pk and new.phone_hash == hashed and new.language == "" and new.choices == []
    assert new.opted_out is False
    assert new.subscribed_place_ids == (suffolk.pk, nassau.pk)  # in the order subscribed

    Conversation.objects.filter(pk=new.pk).update(language="es", menu="places")
    OptOut.objects.create(phone_hash=hashed, source=OptOut.Source.KEYWORD)
    with transaction.atomic():
        existing = services._conversation_locked(hashed)
    assert existing.pk == new.pk  # the same row, not a second one
    assert (existing.language, existing.menu, existing.opted_out) == ("es", "places", True)
    assert Conversation.objects.filter(phone_hash=hashed).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_conversation_stays_locked_until_the_turn_commits():
    hashed = phone_hash(NUMBER)
    Conversation.objects.create(phone_hash=hashed)
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    locking = "SELECT 1 FROM assistant_conversation WHERE phone_hash = %s FOR UPDATE NOWAIT"

    with psycopg.connect(**params, autocommit=True) as other:
        with transaction.atomic():
            services._conversation_locked(hashed)
            # Another worker's turn for this resident cannot take the row now: it waits.
            with pytest.raises(psycopg.errors.LockNotAvailable):
                other.execute(locking, [hashed])
        assert other.execute(locking, [hashed]).fetchone() == (1,)  # free once committed
