"""The admin simulator: the real conversation, nothing sent."""

import pytest
from django.urls import reverse

from assistant.delivery.backends import locmem
from assistant.models import Conversation, InboundMessage
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_an_organizer_chats_in_any_language_and_sees_what_would_be_sent(client, admin_login):
    admin_login(client, UserFactory(is_superuser=True))
    locmem.outbox.clear()
    url = reverse("admin:assistant_sms_simulator")
    assert client.get(reverse("admin:assistant_conversation_changelist")).status_code == 200
    client.post(url, {"text": "xin chào"})
    response = client.post(url, {"text": "11040"})
    page = response.content.decode()
    assert "Nassau County, NY" in page and "Queens County, NY" in page
    assert "Gửi mã ZIP" in page  # the welcome, in Vietnamese
    assert "UCS-2" in page and "segments" in page
    response = client.post(url, {"text": "STOP"})
    # The one confirmation an opt-out gets, in the resident's language.
    assert "Bạn sẽ không nhận thêm tin nhắn" in response.content.decode()
    assert locmem.outbox == []
    assert not Conversation.objects.exists() and not InboundMessage.objects.exists()
    response = client.post(url, {"reset": "1", "text": ""})
    assert "Queens" not in response.content.decode()


def test_the_simulator_is_for_staff_only(client):
    response = client.get(reverse("admin:assistant_sms_simulator"))
    assert response.status_code == 302
