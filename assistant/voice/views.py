"""The voice line's webhook (/voice/inbound, Twilio's incoming-call and Gather callbacks) and
the reviewed recordings Twilio fetches to play."""

import logging
import re

from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET, require_POST

from assistant.sms.webhooks import twilio_webhook
from assistant.voice.calls import CallRefused, call_respond, call_step_parse
from assistant.voice.models import VoiceRecording

logger = logging.getLogger(__name__)

CALL_SID_RE = re.compile(r"CA[0-9a-fA-F]{32}", re.ASCII)


@require_POST
@twilio_webhook
def inbound(request):
    """Answer one step of a call with TwiML; 400 for a request that is not one.

    The caller's number (From) is never read: a call leaves only counts.
    """
    if not CALL_SID_RE.fullmatch(request.POST.get("CallSid", "")):
        return HttpResponseBadRequest("CallSid is required.", content_type="text/plain")
    try:
        step = call_step_parse(request.GET.dict(), request.POST.get("Digits", ""))
    except CallRefused as exc:
        logger.warning("Malformed voice request (%s).", exc)
        return HttpResponseBadRequest("Malformed voice request.", content_type="text/plain")
    return HttpResponse(str(call_respond(step)), content_type="text/xml")


def recording_response(recording: VoiceRecording) -> HttpResponse:
    """Return the recording's audio as an HTTP response."""
    response = HttpResponse(bytes(recording.audio), content_type=recording.content_type)
    response["Cache-Control"] = "public, max-age=300"
    return response


@require_GET
def recording(request, pk: int):
    """Serve a reviewed recording (Twilio fetches it for <Play>); unreviewed ones are 404."""
    found = get_object_or_404(VoiceRecording, pk=pk)
    if not found.reviewed:
        raise Http404
    return recording_response(found)
