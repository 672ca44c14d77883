"""The worker's last writes of an answer go to PostgreSQL in one round trip (issue 15)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assistant.models import Conversation, InboundMessage
from assistant.privacy import encrypt, phone_hash
from assistant.sms.services import inbound_accept, inbound_answer_pending
from assistant.sql import save_fields_together

NUMBER = "+15165550142"


@pytest.mark.django_db
def test_two_rows_of_two_models_are_saved_in_one_statement(postgres):
    hashed = phone_hash(NUMBER)
    conversation = Conversation.objects.create(phone_hash=hashed)
    inbound = InboundMessage.objects.create(
        sid="SM" + "1" * 32,
        phone_hash=hashed,
        outcome=InboundMessage.Outcome.PENDING,
        number_encrypted=encrypt(NUMBER),
        body_encrypted=encrypt("hola"),
    )
    before = conversation.updated_at
    conversation.language, conversation.menu = "es", "place"
    inbound.outcome, inbound.number_encrypted, inbound.body_encrypted = "answered", "", ""

    with CaptureQueriesContext(connection) as queries:
        save_fields_together(
            [
                (conversation, ["language", "menu", "updated_at"]),
                (inbound, ["outcome", "number_encrypted", "body_encrypted"]),
            ]
        )

    assert len(queries) == 1
    saved = Conversation.objects.get(pk=conversation.pk)
    assert (saved.language, saved.menu) == ("es", "place")
    assert saved.updated_at > before  # auto_now is set, as save() would
    assert InboundMessage.objects.filter(
        pk=inbound.pk, outcome="answered", number_encrypted="", body_encrypted=""
    ).exists()


@pytest.mark.django_db
def test_an_answer_saves_the_conversation_and_wipes_the_text_in_one_statement(
    postgres, loaded_places
):
    inbound = inbound_accept(sid="SM" + "2" * 32, from_number=NUMBER, body="hola necesito ayuda")

    with CaptureQueriesContext(connection) as queries:
        inbound_answer_pending(hashed=inbound.phone_hash)

    inbound.refresh_from_db()
    assert inbound.outcome == InboundMessage.Outcome.ANSWERED
    assert (inbound.number_encrypted, inbound.body_encrypted) == ("", "")
    assert Conversation.objects.get(phone_hash=inbound.phone_hash).language == "es"
    both = [
        query["sql"]
        for query in queries
        if query["sql"].startswith("WITH")
        and Conversation._meta.db_table in query["sql"]
        and InboundMessage._meta.db_table in query["sql"]
    ]
    assert len(both) == 1
