"""Audio for the voice tests, written by the test itself (no download, no recording)."""

import io
import wave


def tiny_wav() -> bytes:
    """A tenth of a second of silence, 8 kHz mono: enough for Twilio's <Play> and a test."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\0\0" * 800)
    return buffer.getvalue()
