"""Twilio's two webhooks: the incoming message (/sms/inbound) and the status callback
(/sms/status). They are the only views exempt from CSRF, and both require Twilio's signature."""

import logging
import re

from django.http import HttpResponse, HttpResponseBadRequest
from django.views.decorators.http import require_POST
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError
from twilio.twiml.messaging_response import MessagingResponse

from assistant.delivery.sending import outbound_status_update
from assistant.privacy import normalize_phone
from assistant.sms.conversation import is_opt_out
from assistant.sms.services import inbound_accept, inbound_message_answer
from assistant.sms.tasks import inbound_answer
from assistant.sms.webhooks import twilio_webhook
from assistant.vocabulary import SMS_MAX_TEXT as MAX_TEXT

logger = logging.getLogger(__name__)

MESSAGE_SID_RE = re.compile(r"^(SM|MM)[0-9a-fA-F]{32}$")
SID_PATTERN = re.compile(r"^[A-Z]{2}[0-9a-fA-F]{32}$")
STATUS_PATTERN = re.compile(r"^[a-z_-]{1,32}$")
_EMPTY_TWIML = str(MessagingResponse())


@require_POST
@twilio_webhook
def inbound(request):
    """Record the message, hand its id to a worker, answer empty TwiML at once.

    The conversation runs in the worker (assistant.sms.tasks.inbound_answer). When the broker
    cannot take the task, the message is answered here, in the TwiML, rather than lost.
    """
    sid = request.POST.get("MessageSid", "")
    sender = normalize_phone(request.POST.get("From", ""))
    if not MESSAGE_SID_RE.match(sid) or len(sender) < 4 or "Body" not in request.POST:
        return HttpResponseBadRequest(
            "MessageSid, From and Body are required.", content_type="text/plain"
        )
    body = request.POST.get("Body", "")[:MAX_TEXT]
    inbound = inbound_accept(sid=sid, from_number=sender, body=body)
    if inbound is None:  # Twilio's retry of a message already recorded
        return HttpResponse(_EMPTY_TWIML, content_type="text/xml")
    if is_opt_out(body) or inbound_answer.app.conf.task_always_eager:
        # An opt-out's confirmation goes in this answer (the queue would not send it to a
        # number that opted out); without a broker (make run) everything runs here.
        result = inbound_message_answer(inbound=inbound)
    else:
        try:
            inbound_answer.apply_async(args=[inbound.pk], retry=False)
            return HttpResponse(_EMPTY_TWIML, content_type="text/xml")
        except (KombuOperationalError, RedisError, OSError):
            logger.warning("Broker down: answering SMS %s in the webhook.", inbound.pk)
            result = inbound_message_answer(inbound=inbound)
    if not result.twiml_replies:
        return HttpResponse(_EMPTY_TWIML, content_type="text/xml")
    # The broker is down or it is an opt-out: answer in the response itself.
    response = MessagingResponse()
    for reply in result.twiml_replies:
        response.message(reply)
    return HttpResponse(str(response), content_type="text/xml")


@require_POST
@twilio_webhook
def status_callback(request):
    """Record the status Twilio reports for one of our messages.

    200 for anything well formed (also for a sid we never sent or a status we do not know,
    so Twilio does not retry it forever); 400 for a malformed request; 403 (from
    ``twilio_webhook``) for a forged one; 503 for a status that arrived before its sid was
    saved while Redis, which would keep it until then, is down (Twilio may call again).
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
    try:
        outbound_status_update(sid=sid, status=status, error_code=error_code)
    except (RedisError, OSError):
        logger.warning("Status callback for a sid not saved yet; Redis down, asking for it again.")
        return HttpResponse(status=503, headers={"Retry-After": "60"})
    return HttpResponse(status=200)
