import logging
import os
from collections.abc import Container
from datetime import datetime, timedelta

import requests
from django.conf import settings
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from assistant.delivery.backends.base import BaseSmsBackend, SentMessage, SmsError
from assistant.privacy import is_whatsapp

logger = logging.getLogger(__name__)

# Twilio error codes that no retry can fix: an invalid number, a number that replied STOP,
# a number that cannot receive SMS, and an unreachable destination.
PERMANENT_ERROR_CODES = {21211, 21610, 21614, 21617, 30006}
# "Too many requests": Twilio's queue for this sender is full; it did not take the message.
RATE_LIMIT_CODES = {20429}
# How far Twilio's clock (its date_created, to the second) may be from ours. Erring wide only
# widens the window in which another message could match; our other messages are excluded
# by sid, so the window cannot take a message that is already someone else's.
_SKEW = timedelta(minutes=2)


_clients: dict[tuple, Client] = {}


def _client(account_sid: str, auth_token: str, timeout: float, base_url: str) -> Client:
    """Return this process's Twilio client for these settings, made once.

    One client per process keeps its HTTP connection open between messages: a new client per
    message meant a new TCP (and, in production, TLS) connection for every SMS.
    """
    key = (account_sid, auth_token, timeout, base_url)
    client = _clients.get(key)
    if client is None:
        http = TwilioHttpClient(timeout=timeout)
        _read_environment_once(http.session, base_url)
        client = Client(account_sid, auth_token, http_client=http)
        # Tests point the library at a fake or a mock of Twilio's API.
        client.api.base_url = base_url
        _clients[key] = client
    return client


def _read_environment_once(session: requests.Session, base_url: str) -> None:
    """Read the proxy and CA bundle settings of the environment once, not for every message.

    requests reads them anew for each call (HTTPS_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE,
    CURL_CA_BUNDLE: every variable of the process is scanned), which was 5% of a worker's CPU
    per message. Every call goes to the one host of ``base_url``, so the same answer holds.
    """
    session.proxies.update(requests.utils.get_environ_proxies(base_url))
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
    session.trust_env = False


class TwilioBackend(BaseSmsBackend):
    """Send through Twilio's Messages API with the official ``twilio`` library."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.client = _client(
            settings.TWILIO_ACCOUNT_SID,
            settings.TWILIO_AUTH_TOKEN,
            settings.TWILIO_TIMEOUT_SECONDS,
            settings.TWILIO_API_BASE_URL,
        )

    @property
    def sender(self) -> str:
        """Return the messaging service sid, or else the number messages come from."""
        return settings.TWILIO_MESSAGING_SERVICE_SID or settings.TWILIO_FROM_NUMBER

    def sender_for(self, to: str) -> str:
        """Return TWILIO_WHATSAPP_FROM for a WhatsApp address, else ``sender``."""
        return settings.TWILIO_WHATSAPP_FROM if is_whatsapp(to) else self.sender

    def send(
        self,
        *,
        to: str,
        body: str,
        status_callback: str | None = None,
        content_sid: str = "",
    ) -> SentMessage:
        """Create one message; raise SmsError(permanent=…, maybe_accepted=…) when it fails.

        A WhatsApp address (``whatsapp:+1…``) is sent from TWILIO_WHATSAPP_FROM; a template
        (``content_sid``) sends its variables, which ``body`` holds as JSON, and no body.
        """
        params = {"to": to}
        if content_sid:
            params["content_sid"] = content_sid
            params["content_variables"] = body
        else:
            params["body"] = body
        if is_whatsapp(to):
            if not settings.TWILIO_WHATSAPP_FROM:
                raise SmsError("TWILIO_WHATSAPP_FROM is not set.", permanent=True)
            params["from_"] = settings.TWILIO_WHATSAPP_FROM
        elif settings.TWILIO_MESSAGING_SERVICE_SID:
            params["messaging_service_sid"] = settings.TWILIO_MESSAGING_SERVICE_SID
        else:
            params["from_"] = settings.TWILIO_FROM_NUMBER
        if status_callback:
            params["status_callback"] = status_callback
        try:
            message = self.client.messages.create(**params)
        except TwilioRestException as exc:
            raise _refusal(exc) from None
        except requests.ConnectTimeout:
            raise SmsError("Could not connect to Twilio in time.", permanent=False) from None
        except requests.ConnectionError as exc:
            # Refused before anything was sent, or dropped after the request left: unknown.
            raise SmsError(
                "The connection to Twilio failed.",
                permanent=False,
                maybe_accepted=not _refused_before_sending(exc),
            ) from None
        except requests.RequestException as exc:
            raise SmsError(
                f"Twilio did not answer in time ({exc.__class__.__name__}).",
                permanent=False,
                maybe_accepted=True,
            ) from None
        except (ValueError, TwilioException) as exc:
            raise SmsError(
                f"Twilio's answer could not be read ({exc.__class__.__name__}).",
                permanent=False,
                maybe_accepted=True,
            ) from None
        sid = getattr(message, "sid", None)
        if not sid:
            raise SmsError(
                "Twilio accepted the request but returned no sid.",
                permanent=False,
                maybe_accepted=True,
            )
        return SentMessage(sid=sid, status=message.status or "queued")

    def find_sent(
        self,
        *,
        to: str,
        body: str,
        since: datetime,
        until: datetime | None = None,
        exclude_sids: Container[str] = frozenset(),
    ) -> SentMessage | None:
        """Look the message up in Twilio's Messages list, filtered by To and DateSent.

        Only a message created between ``since`` and ``until`` (widened by the clock skew),
        with this body, from our sender and whose sid is not in ``exclude_sids`` is ours; of
        several, the oldest. A message still in Twilio's queue has no DateSent yet, so when
        the filtered list has no match the newest messages to the same number are checked as
        well.

        Nothing we send lets a look-up tell two identical texts apart: the Message resource
        returns neither our StatusCallback URL nor any other parameter we could mark an
        attempt with (its fields are body, to, from, dates, status, prices and sids), so a
        marker in the callback URL could not be read back here. The time window and the
        sids already taken do the job instead.
        """
        earliest = since - _SKEW
        latest = until + _SKEW if until else None
        queries = [
            {"to": to, "date_sent_after": earliest.replace(hour=0, minute=0, second=0)},
            {"to": to},
        ]
        try:
            for query in queries:
                candidates = [
                    message
                    for message in self.client.messages.list(**query, limit=50)
                    if self._is_ours(message, body=body, earliest=earliest, latest=latest)
                ]
                # The list is newest first; the oldest candidate is the likeliest ours.
                for message in reversed(candidates):
                    if message.sid not in exclude_sids:
                        return SentMessage(sid=message.sid, status=message.status or "queued")
        except TwilioRestException as exc:
            raise SmsError(
                f"Could not look the message up at Twilio (HTTP {exc.status}).",
                permanent=False,
                code=exc.code,
            ) from None
        except (requests.RequestException, ValueError, TwilioException) as exc:
            raise SmsError(
                f"Could not look the message up at Twilio ({exc.__class__.__name__}).",
                permanent=False,
            ) from None
        return None

    def fetch_status(self, *, sid: str) -> SentMessage | None:
        """Fetch message ``sid`` from Twilio; return its status and error code (None: 404)."""
        try:
            message = self.client.messages(sid).fetch()
        except TwilioRestException as exc:
            if exc.status == 404:
                return None
            raise SmsError(
                f"Could not fetch the message's status from Twilio (HTTP {exc.status}).",
                permanent=False,
                code=exc.code,
            ) from None
        except (requests.RequestException, ValueError, TwilioException) as exc:
            raise SmsError(
                f"Could not fetch the message's status from Twilio ({exc.__class__.__name__}).",
                permanent=False,
            ) from None
        return SentMessage(
            sid=message.sid or sid, status=message.status or "", error_code=message.error_code
        )

    def _is_ours(self, message, *, body: str, earliest: datetime, latest: datetime | None) -> bool:
        # Twilio keeps a trial prefix and may normalise line ends; compare bodies loosely.
        if not message.sid or not message.body or not message.body.endswith(body):
            return False
        if message.date_created and message.date_created < earliest:
            return False
        if message.date_created and latest and message.date_created > latest:
            return False
        if is_whatsapp(message.to or ""):
            return message.from_ == settings.TWILIO_WHATSAPP_FROM
        sender = settings.TWILIO_MESSAGING_SERVICE_SID
        if sender:
            return message.messaging_service_sid == sender
        return message.from_ == settings.TWILIO_FROM_NUMBER


def _refusal(exc: TwilioRestException) -> SmsError:
    status = exc.status or 0
    code = exc.code
    if status == 429 or code in RATE_LIMIT_CODES:
        return SmsError(
            f"Twilio asked us to slow down (HTTP {status}, code {code}).",
            permanent=False,
            code=code,
            rate_limited=True,
        )
    if status >= 500 or status == 0:
        return SmsError(
            f"Twilio had a server error (HTTP {status}, code {code}).",
            permanent=False,
            code=code,
            maybe_accepted=True,
        )
    permanent = code in PERMANENT_ERROR_CODES or 400 <= status < 500
    return SmsError(
        f"Twilio refused the message (HTTP {status}, code {code}).",
        permanent=permanent,
        code=code,
    )


def _refused_before_sending(exc: requests.ConnectionError) -> bool:
    text = repr(exc)
    return "ConnectionRefused" in text or "NewConnectionError" in text
