"""Twilio's two webhooks: the incoming message (/sms/inbound) and the status callback
(/sms/status). They are the only views exempt from CSRF, and both require Twilio's signature."""

import logging
import re

from django.db import InterfaceError, connection
from django.db import OperationalError as DatabaseOperationalError
from django.http import HttpResponse, HttpResponseBadRequest
from django.views.decorators.http import require_POST
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError
from twilio.twiml.messaging_response import MessagingResponse

from assistant.delivery.sending import outbound_status_update
from assistant.delivery.status_spool import outbound_status_keep
from assistant.privacy import normalize_phone
from assistant.sms.conversation import is_opt_out
from assistant.sms.services import inbound_accept, inbound_message_answer
from assistant.sms.spool import inbound_spool_accept, inbound_spool_waiting
from assistant.sms.tasks import inbound_answer, inbound_drain
from assistant.sms.tasks import inbound_spool_drain as inbound_spool_drain_task
from assistant.sms.wake import inbound_wake_claim, inbound_wake_release
from assistant.sms.webhooks import twilio_webhook
from assistant.vocabulary import SMS_MAX_TEXT as MAX_TEXT

logger = logging.getLogger(__name__)

# Every number Twilio sends is read in ASCII digits only (always fullmatch): "\d", isdigit()
# and int() also take "²", "①", "٣" or "３", which Twilio never sends.
MESSAGE_SID_RE = re.compile(r"(SM|MM)[0-9a-fA-F]{32}")
SID_PATTERN = re.compile(r"[A-Z]{2}[0-9a-fA-F]{32}")
STATUS_PATTERN = re.compile(r"[a-z_-]{1,32}")
ERROR_CODE_RE = re.compile(r"[0-9]{1,9}")
# An E.164 number as Twilio writes it, or a WhatsApp address (whatsapp:+1…).
ADDRESS_RE = re.compile(r"(?:whatsapp:)?\+?[0-9]{3,15}", re.IGNORECASE)
_EMPTY_TWIML = str(MessagingResponse())


@require_POST
@twilio_webhook
def inbound(request):
    """Record the message, wake a worker, answer empty TwiML at once.

    The conversation runs in a worker (assistant.sms.tasks.inbound_drain answers the
    recorded texts of a shard of residents; assistant.sms.wake says how it is woken). When
    the broker cannot take the task, the message is answered here, in the TwiML. When
    the database cannot record it, it is kept in the spool (assistant.sms.spool) and the
    resident is told their answer is coming: 200 either way, never a 500 Twilio drops.
    """
    sid = request.POST.get("MessageSid", "")
    address = request.POST.get("From", "")
    if not MESSAGE_SID_RE.fullmatch(sid) or not address or "Body" not in request.POST:
        return HttpResponseBadRequest(
            "MessageSid, From and Body are required.", content_type="text/plain"
        )
    if not ADDRESS_RE.fullmatch(address):
        logger.warning("Malformed SMS webhook (From is not a phone number in ASCII digits).")
        return HttpResponseBadRequest(
            "From must be a phone number: an optional + and 3 to 15 ASCII digits.",
            content_type="text/plain",
        )
    sender = normalize_phone(address)
    body = request.POST.get("Body", "")[:MAX_TEXT]
    if not inbound_spool_waiting():
        try:
            return _record_and_answer(sid, sender, body)
        except (DatabaseOperationalError, InterfaceError):
            logger.warning("Database down: SMS %s goes to the spool.", sid)
    # The database is down, or texts kept while it was still wait to be recorded: this one
    # joins them, so a resident's texts are recorded in the order they came.
    spooled = inbound_spool_accept(sid=sid, from_number=sender, body=body)
    if spooled.drain_soon:
        try:
            inbound_spool_drain_task.apply_async(retry=False)
        except (KombuOperationalError, RedisError, OSError):
            pass  # Celery beat asks for one every few seconds anyway
    return _twiml(spooled.replies)


def _twiml(replies: list[str]) -> HttpResponse:
    if not replies:
        return HttpResponse(_EMPTY_TWIML, content_type="text/xml")
    response = MessagingResponse()
    for reply in replies:
        response.message(reply)
    return HttpResponse(str(response), content_type="text/xml")


def _record_and_answer(sid: str, sender: str, body: str) -> HttpResponse:
    inbound = _on_kept_connection(lambda: inbound_accept(sid=sid, from_number=sender, body=body))
    if inbound is None:  # Twilio's retry of a message already answered
        return HttpResponse(_EMPTY_TWIML, content_type="text/xml")
    if is_opt_out(body) or inbound_answer.app.conf.task_always_eager:
        # An opt-out's confirmation goes in this answer (the queue would not send it to a
        # number that opted out); without a broker (make run) everything runs here.
        result = inbound_message_answer(inbound=inbound)
    else:
        try:
            _wake_a_worker(inbound.phone_hash)
            return HttpResponse(_EMPTY_TWIML, content_type="text/xml")
        except (KombuOperationalError, RedisError, OSError):
            logger.warning("Broker down: answering SMS %s in the webhook.", inbound.pk)
            result = inbound_message_answer(inbound=inbound)
    # The broker is down or it is an opt-out: answer in the response itself.
    return _twiml(result.twiml_replies)


def _on_kept_connection(record):
    """Return ``record()``, run on the connection kept from an earlier request as it is.

    CONN_HEALTH_CHECKS would first send it a ``SELECT 1``: a round trip to PostgreSQL on
    every text, a twentieth of the webhook's time. Here, when the kept connection proves
    dead (PostgreSQL restarted since the last request), it is closed and ``record()`` runs
    once more on a new one, which is what the check would have done. Recording a text twice
    is harmless (the sid is recorded once). A database that is down fails both ways: the
    text goes to the spool.
    """
    kept = connection.connection is not None and not connection.health_check_done
    if kept:
        connection.health_check_done = True
    try:
        return record()
    except (DatabaseOperationalError, InterfaceError):
        if not kept:
            raise
        logger.info("The kept database connection was closed; recording the text on a new one.")
        connection.close()
        return record()


def _wake_a_worker(hashed: str) -> None:
    """Ask for a drain of the text's shard unless one is queued or running (sms.wake)."""
    shard = inbound_wake_claim(hashed)
    if shard is None:
        return
    try:
        inbound_drain.apply_async(args=[shard], retry=False)
    except (KombuOperationalError, RedisError, OSError):
        inbound_wake_release(shard)  # no drain is coming: the next text must ask again
        raise


@require_POST
@twilio_webhook
def status_callback(request):
    """Record the status Twilio reports for one of our messages.

    200 for anything well formed (also for a sid we never sent or a status we do not know,
    so Twilio does not retry it forever); 400 for a malformed request; 403 (from
    ``twilio_webhook``) for a forged one; 503 when neither PostgreSQL nor Redis can record
    or keep it (Twilio may call again).
    """
    sid = request.POST.get("MessageSid", "").strip()
    status = request.POST.get("MessageStatus", "").strip().lower()
    raw_code = request.POST.get("ErrorCode", "").strip()
    if not SID_PATTERN.fullmatch(sid) or not STATUS_PATTERN.fullmatch(status):
        logger.warning("Malformed status callback (no valid MessageSid or MessageStatus).")
        return HttpResponseBadRequest(
            "MessageSid and MessageStatus are required.", content_type="text/plain"
        )
    error_code = None
    if raw_code:
        if not ERROR_CODE_RE.fullmatch(raw_code):
            logger.warning("Malformed status callback (ErrorCode is not a number).")
            return HttpResponseBadRequest(
                "ErrorCode must be a number of at most 9 ASCII digits.", content_type="text/plain"
            )
        error_code = int(raw_code) or None
    try:
        outbound_status_update(sid=sid, status=status, error_code=error_code)
    except (DatabaseOperationalError, InterfaceError):
        # PostgreSQL is down: Twilio will not send it again, so it is kept and applied later.
        if outbound_status_keep(sid=sid, status=status, error_code=error_code):
            return HttpResponse(status=200)
        logger.warning("Status callback not recorded: the database and Redis are down.")
        return HttpResponse(status=503, headers={"Retry-After": "60"})
    return HttpResponse(status=200)
