"""Twilio's status callback: POST /sms/status."""

import logging
import re

from django.http import HttpResponse, HttpResponseBadRequest
from django.views.decorators.http import require_POST

from assistant.services.delivery import outbound_status_update
from assistant.sms.webhooks import twilio_webhook

logger = logging.getLogger(__name__)

SID_PATTERN = re.compile(r"^[A-Z]{2}[0-9a-fA-F]{32}$")
STATUS_PATTERN = re.compile(r"^[a-z_-]{1,32}$")


@require_POST
@twilio_webhook
def status_callback(request):
    """Record the status Twilio reports for one of our messages.

    200 for anything well formed (also for a sid we never sent or a status we do not know,
    so Twilio does not retry it forever); 400 for a malformed request; 403 (from
    ``twilio_webhook``) for a forged one.
    """
    sid = request.POST.get("MessageSid", "").strip()
    status = request.POST.get("MessageStatus", "").strip().lower()
    raw_code = request.POST.get("ErrorCode", "").strip()
    if not SID_PATTERN.match(sid) or not STATUS_PATTERN.match(status):
        logger.warning("Malformed status callback (no valid MessageSid or MessageStatus).")
        return HttpResponseBadRequest("MessageSid and MessageStatus are required.")
    error_code = None
    if raw_code:
        if not raw_code.isdigit() or len(raw_code) > 9:
            logger.warning("Malformed status callback (ErrorCode is not a number).")
            return HttpResponseBadRequest("ErrorCode must be a number.")
        error_code = int(raw_code) or None
    outbound_status_update(sid=sid, status=status, error_code=error_code)
    return HttpResponse(status=200)
