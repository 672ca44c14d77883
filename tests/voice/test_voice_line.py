"""POST /voice/inbound walked by keypresses: English, Spanish and Mam (played from recordings)."""

import uuid
from datetime import date
from urllib.parse import urlsplit
from xml.etree import ElementTree

import pytest
from django.contrib.auth.models import Group

from assistant.models import Agreement, CallCount, ImportSnapshot, VoiceLanguage, VoiceRecording
from assistant.voice.calls import _slow_numbers
from assistant.voice.services import RecordingRefused, recording_approve, recording_upload
from tests.factories import AgreementFactory, UserFactory, place
from tests.sms_signing import signed_post, twilio_signature
from tests.support.audio import tiny_wav

pytestmark = pytest.mark.django_db

PATH = "/voice/inbound"
ZIP = "11550"  # Hempstead, Nassau County, NY


@pytest.fixture(autouse=True)
def voice_settings(settings):
    settings.TWILIO_AUTH_TOKEN = "test-auth-token-for-signatures"


@pytest.fixture
def nassau_works_with_ice():
    AgreementFactory(
        agency__name="Nassau County Sheriff's Office",
        agency__place=place("NY", "Nassau County"),
        enforcement_model=Agreement.EnforcementModel.TASK_FORCE,
        status=Agreement.Status.ACTIVE,
        signed_on=date(2025, 3, 4),
    )
    ImportSnapshot.objects.create(
        file_name="participating.xlsx", file_sha256="0" * 64, as_of=date(2025, 6, 2),
        as_of_source=ImportSnapshot.DateSource.OPTION,
    )  # fmt: skip


class Call:
    """One call: posts each keypress to the action the last TwiML's <Gather> named."""

    def __init__(self, client):
        self.client = client
        self.sid = "CA" + uuid.uuid4().hex
        self.action = PATH
        self.twiml = None

    def press(self, digits: str | None = None):
        params = {"CallSid": self.sid, "AccountSid": "AC" + "0" * 32, "From": "+15165550123"}
        if digits is not None:
            params["Digits"] = digits
        response = signed_post(self.client, self.action, params)
        assert response.status_code == 200, response.content
        assert response["Content-Type"].startswith("text/xml")
        self.twiml = ElementTree.fromstring(response.content)
        gather = self.twiml.find("Gather")
        self.action = gather.get("action") if gather is not None else None
        return self

    def _heard(self):
        # What is said while waiting for a key; after it comes only "we did not hear a key".
        gather = self.twiml.find("Gather")
        return gather if gather is not None else self.twiml

    def said(self) -> list[tuple[str, str]]:
        return [(e.get("language"), e.text) for e in self._heard().iter("Say")]

    def played(self) -> list[str]:
        return [e.text for e in self._heard().iter("Play")]

    def text(self) -> str:
        return " ".join(text for _lang, text in self.said())


def test_the_language_menu_speaks_each_option_in_its_own_language(client):
    call = Call(client).press()
    said = call.said()
    assert said[0] == ("en-US", "For English, press 1.")
    assert said[1] == ("es-MX", "Para español, oprima 2.")
    assert ("vi-VN", "Tiếng Việt, xin bấm số 4.") in said
    assert call.twiml.find("Gather").get("numDigits") == "1"


def test_an_english_call_hears_who_works_with_ice_since_when_and_the_lists_date(
    client, nassau_works_with_ice
):
    call = Call(client).press().press("1")
    assert "ZIP code" in call.text() and {lang for lang, _t in call.said()} == {"en-US"}
    call.press(ZIP)
    heard = call.text()
    assert "Nassau County, NY: yes" in heard and "Task Force" in heard
    assert "since 3/2025" in heard and "Nassau County Sheriff's Office" in heard
    assert "June 2, 2025" in heard
    assert "Press 1 to hear how to report a crime" in heard
    call.press("1")
    assert "Call 911 in an emergency." in call.text()
    call.press("*")
    assert "Call 911 in an emergency." in call.text()  # repeated
    call.press("0")
    assert "Type your 5-digit ZIP code." in call.text()


def test_a_spanish_call_is_spoken_in_spanish(client, nassau_works_with_ice):
    call = Call(client).press().press("2")
    assert {lang for lang, _t in call.said()} == {"es-MX"}
    assert "código postal" in call.text()
    call.press(ZIP).press("2")
    assert "derecho a guardar silencio" in call.text()


def test_an_unknown_zip_asks_again(client):
    call = Call(client).press().press("1").press("00000")
    assert "We do not know that ZIP code." in call.text()
    assert "step=zip" in call.action


def test_mam_plays_reviewed_recordings_and_falls_back_to_spanish_with_a_notice(
    client, nassau_works_with_ice
):
    mam = VoiceLanguage.objects.get(code="mam")
    uploader, reviewer = UserFactory(), UserFactory()
    reviewer.groups.add(Group.objects.get(name="Reviewer"))
    for prompt in ("language_option", "welcome", "ask_zip", "yes_task_force", "menu"):
        recording = recording_upload(
            language=mam, prompt=prompt, audio=tiny_wav(), content_type="audio/wav", user=uploader
        )
        if prompt != "menu":  # the menu stays unreviewed: it must not be played
            recording_approve(recording=recording, user=reviewer)

    call = Call(client).press()
    assert "For more languages, press 9." in call.text()
    call.press("9")  # the second page of languages
    options = call.played()
    assert len(options) == 1  # Mam's own recording; the others have none yet
    mam_key = str([lang.code for lang in _second_page()].index("mam") + 1)
    call.press(mam_key)
    welcome = VoiceRecording.objects.get(language=mam, prompt="welcome")
    assert call.played() == [welcome.public_url(), _url(mam, "ask_zip")]
    assert call.said() == []
    call.press(ZIP)
    assert call.played()[0] == _url(mam, "yes_task_force")
    # The list's date and the unreviewed menu fall back to Spanish, after one spoken notice.
    spanish = call.text()
    assert spanish.count("no está grabado en su idioma") == 1
    assert "Oprima 1" in spanish
    # Twilio fetches the reviewed audio; an unreviewed one is not served.
    path = urlsplit(_url(mam, "welcome")).path
    response = client.get(path)
    assert response.status_code == 200 and response.content.startswith(b"RIFF")
    menu = VoiceRecording.objects.get(language=mam, prompt="menu")
    assert client.get(f"/voice/recordings/{menu.pk}").status_code == 404


def test_an_uploader_cannot_approve_their_own_recording():
    mam = VoiceLanguage.objects.get(code="mam")
    reviewer = UserFactory()
    reviewer.groups.add(Group.objects.get(name="Reviewer"))
    recording = recording_upload(
        language=mam, prompt="welcome", audio=tiny_wav(), content_type="audio/wav", user=reviewer
    )
    with pytest.raises(RecordingRefused):
        recording_approve(recording=recording, user=reviewer)


def test_a_call_stores_only_counts(client, nassau_works_with_ice):
    Call(client).press().press("1").press(ZIP).press("3")
    counts = {(c.language, c.step): c.count for c in CallCount.objects.all()}
    assert counts == {
        ("", "call"): 1,
        ("en", "language"): 1,
        ("en", "answer"): 1,
        ("en", "help"): 1,
    }
    stored = " ".join(str(v) for c in CallCount.objects.values() for v in c.values())
    assert "5550123" not in stored


def test_phone_numbers_are_read_one_digit_at_a_time():
    assert (
        _slow_numbers("Legal aid: (516) 555-0123.") == "Legal aid: 5, 1, 6, 5, 5, 5, 0, 1, 2, 3,."
    )


def test_a_forged_call_is_refused(client):
    params = {"CallSid": "CA" + uuid.uuid4().hex}
    response = client.post(PATH, params, headers={"X-Twilio-Signature": "forged"})
    assert response.status_code == 403


@pytest.mark.parametrize(
    "path, params",
    [
        (PATH, {}),  # no CallSid
        (PATH + "?step=zip&lang=en", {"Digits": "١١٥٥٠"}),  # Arabic-Indic digits: ASCII only
        (PATH + "?step=nowhere", {}),
        (PATH + "?step=menu&lang=en&place=1;drop", {"Digits": "1"}),
    ],
)
def test_a_malformed_call_is_400_never_500(client, path, params):
    if path != PATH or params:
        params = {"CallSid": "CA" + uuid.uuid4().hex, **params}
    signature = twilio_signature(path, params)
    response = client.post(path, params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 400


def _second_page():
    return list(VoiceLanguage.objects.filter(active=True).order_by("position", "code"))[8:16]


def _url(language, prompt):
    return VoiceRecording.objects.get(language=language, prompt=prompt).public_url()
