"""Writes for the voice line: counting calls, and organizers' recordings and their review."""

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assistant.voice.models import CallCount, VoiceLanguage, VoiceRecording

MAX_AUDIO_BYTES = 2 * 1024 * 1024
AUDIO_TYPES = {"audio/mpeg", "audio/wav", "audio/x-wav", "audio/wave"}


class RecordingRefused(Exception):
    """An upload or an approval that is not allowed; the message says why."""


def call_count_add(*, language: str, step: str) -> None:
    """Count one call reaching ``step`` today in ``language``: the only trace a call leaves."""
    today = timezone.localdate()
    CallCount.objects.bulk_create(
        [CallCount(day=today, language=language, step=step, count=0)], ignore_conflicts=True
    )
    CallCount.objects.filter(day=today, language=language, step=step).update(count=F("count") + 1)


@transaction.atomic
def recording_upload(
    *, language: VoiceLanguage, prompt: str, audio: bytes, content_type: str, user
) -> VoiceRecording:
    """Store a new recording for the prompt; it waits for a Reviewer before it is played."""
    if content_type not in AUDIO_TYPES:
        raise RecordingRefused(_("Upload an MP3 or WAV file."))
    if not audio or len(audio) > MAX_AUDIO_BYTES:
        raise RecordingRefused(_("Upload an MP3 or WAV file."))
    recording, _created = VoiceRecording.objects.get_or_create(
        language=language, prompt=prompt, defaults={"audio": b""}
    )
    recording.audio = audio
    recording.content_type = "audio/wav" if "wav" in content_type else content_type
    recording.uploaded_by = user
    recording.reviewed_by = None
    recording.reviewed_at = None
    recording.save()
    return recording


@transaction.atomic
def recording_approve(*, recording: VoiceRecording, user) -> VoiceRecording:
    """Approve a recording so the line plays it: a Reviewer who did not upload it."""
    if not user.has_perm("assistant.review_voicerecording"):
        raise RecordingRefused(_("Only a Reviewer can approve a recording."))
    if recording.uploaded_by_id == user.pk:
        raise RecordingRefused(_("Someone other than the person who uploaded it must approve it."))
    recording.reviewed_by = user
    recording.reviewed_at = timezone.now()
    recording.save(update_fields=["reviewed_by", "reviewed_at"])
    return recording
