"""Twilio's incoming-message webhook."""

import re

from django.http import HttpResponse, HttpResponseBadRequest
from django.views.decorators.http import require_POST
from twilio.twiml.messaging_response import MessagingResponse

from assistant.privacy import normalize_phone
from assistant.services.sms_inbound import inbound_message_handle
from assistant.sms.conversation import MAX_TEXT
from assistant.sms.webhooks import twilio_webhook

MESSAGE_SID_RE = re.compile(r"^(SM|MM)[0-9a-fA-F]{32}$")
_EMPTY_TWIML = str(MessagingResponse())


@require_POST
@twilio_webhook
def inbound(request):
    """Hand the message to the conversation, queue its replies, answer empty TwiML at once."""
    sid = request.POST.get("MessageSid", "")
    sender = normalize_phone(request.POST.get("From", ""))
    if not MESSAGE_SID_RE.match(sid) or len(sender) < 4 or "Body" not in request.POST:
        return HttpResponseBadRequest(
            "MessageSid, From and Body are required.", content_type="text/plain"
        )
    body = request.POST.get("Body", "")[:MAX_TEXT]
    inbound_message_handle(sid=sid, from_number=sender, body=body)
    return HttpResponse(_EMPTY_TWIML, content_type="text/xml")
