"""Reads for the voice line: its languages, the recordings it may play, the list's date."""

from datetime import date

from assistant.ice_import.models import ImportSnapshot
from assistant.voice.models import VoiceLanguage, VoiceRecording

PAGE_SIZE = 8  # keys 1-8 choose a language; 9 turns the page


def voice_languages() -> list[VoiceLanguage]:
    """Return the languages the line offers, in menu order."""
    return list(VoiceLanguage.objects.filter(active=True).order_by("position", "code"))


def voice_language(*, code: str) -> VoiceLanguage | None:
    """Return the offered language with this code, or None."""
    return VoiceLanguage.objects.filter(active=True, code=code).first()


def language_menu_page(*, page: int) -> tuple[list[tuple[str, VoiceLanguage]], bool]:
    """Return the page's (key, language) pairs, and whether another page follows."""
    languages = voice_languages()
    chunk = languages[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    more = len(languages) > PAGE_SIZE
    return [(str(number), language) for number, language in enumerate(chunk, 1)], more


def reviewed_recordings(*, language: VoiceLanguage) -> dict[str, VoiceRecording]:
    """Return the language's reviewed recordings by prompt (unreviewed ones are never played)."""
    found = VoiceRecording.objects.filter(language=language, reviewed_at__isnull=False).defer(
        "audio"
    )
    return {recording.prompt: recording for recording in found}


def ice_list_date() -> date | None:
    """Return the date of the newest ICE list imported, or None before the first import."""
    snapshot = ImportSnapshot.objects.order_by("-as_of").only("as_of").first()
    return snapshot.as_of if snapshot else None
