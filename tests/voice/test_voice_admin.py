"""The voice line in the admin: every prompt to read or hear before it goes live, the call
simulator, and no inline script or style."""

import pytest
from django.urls import reverse

from assistant.models import CallCount, VoiceLanguage
from assistant.voice.services import recording_upload
from tests.factories import UserFactory
from tests.support.audio import tiny_wav

pytestmark = pytest.mark.django_db


@pytest.fixture
def organizer(client, admin_login):
    user = UserFactory(is_staff=True, is_superuser=True)
    admin_login(client, user)
    return user


def test_a_synthesised_language_shows_each_prompt_with_its_say_language_and_voice(
    client, organizer
):
    spanish = VoiceLanguage.objects.get(code="es")
    page = client.get(reverse("admin:assistant_voicelanguage_change", args=[spanish.pk]))
    html = page.content.decode()
    assert "Escriba su código postal de 5 dígitos." in html
    assert "&lt;Say language=es-MX voice=Polly.Mia&gt;" in html


def test_a_recorded_language_lets_organizers_hear_each_recording_even_unreviewed(client, organizer):
    mam = VoiceLanguage.objects.get(code="mam")
    recording = recording_upload(
        language=mam, prompt="welcome", audio=tiny_wav(), content_type="audio/wav", user=organizer
    )
    html = client.get(reverse("admin:assistant_voicelanguage_change", args=[mam.pk])).content
    audio_url = reverse("admin:assistant_voicerecording_audio", args=[recording.pk])
    assert f'<audio controls preload="none" src="{audio_url}">'.encode() in html
    assert b"not reviewed: not played" in html
    assert b"no recording: said in Spanish" in html
    assert client.get(audio_url).content.startswith(b"RIFF")
    assert b"<script>" not in html.replace(b'<script src="', b"")
    assert b' style="' not in html


def test_the_call_simulator_walks_the_twiml_with_keypresses_and_counts_nothing(client, organizer):
    url = reverse("admin:assistant_voice_simulator")
    page = client.post(url, {"call": "1"}).content.decode()
    assert "For English, press 1." in page and "&lt;Say language=en-US" in page
    page = client.post(url, {"keys": "2"}).content.decode()
    assert "Escriba su código postal de 5 dígitos." in page
    page = client.post(url, {"keys": "11550"}).content.decode()
    assert "Todavía no tenemos la lista de ICE" in page  # no list imported in this test
    assert CallCount.objects.count() == 0
    changelist = client.get(reverse("admin:assistant_callcount_changelist")).content.decode()
    assert url in changelist
