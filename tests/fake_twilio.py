"""A small fake of Twilio's Messages API on loopback, for fault tests.

It answers the way Twilio does (JSON bodies, error codes) and can be told to misbehave:
each create request takes the next scripted answer, then "ok"; each look-up in the Messages
list takes the next answer scripted with ``script_lookups``. It counts what it accepted,
across every worker process, so tests can check that a message went out exactly once, and
serves each accepted message by sid with the status set in ``statuses`` (else the status its
callbacks reached, at least "sent").

For the fault suite (tests/faults) it can also misbehave for a while (``fault_cycle``: each
create takes the next answer of the cycle, hang, drop, 500, 429 …), answer slowly
(``latency``), refuse the first attempt at a text it already took for the same number
(``fail_repeats``), and post signed status callbacks back to the ``StatusCallback`` URL, in
order or out of order (``callbacks``), the way Twilio reports a message's progress.
"""

import heapq
import json
import re
import socket
import threading
import time
import uuid
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from email.utils import formatdate
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from twilio.request_validator import RequestValidator

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "f" * 32
FROM_NUMBER = "+15005550006"

# Answers a test can script: name -> (HTTP status, JSON body or raw text, accepted?)
ERRORS = {
    "429": (429, {"code": 20429, "message": "Too Many Requests", "status": 429}),
    "500": (500, {"code": 20500, "message": "Internal Server Error", "status": 500}),
    "21610": (400, {"code": 21610, "message": "Attempt to send to unsubscribed recipient"}),
    "21211": (400, {"code": 21211, "message": "Invalid 'To' Phone Number"}),
    "21617": (400, {"code": 21617, "message": "Body exceeds the 1600 character limit"}),
    "30006": (400, {"code": 30006, "message": "Landline or unreachable carrier"}),
}
# The order a message's statuses move in; the resource reports the furthest one reached.
STATUS_RANK = {"queued": 0, "sending": 1, "sent": 2, "delivered": 3}
# Callbacks in order: (seconds after the message was taken, status).
IN_ORDER = [(0.3, "sent"), (0.6, "delivered")]
# Out of order, one plan per message in turn. "now" is posted before the create request is
# answered, so it reaches the site before the worker can have saved the message's sid.
OUT_OF_ORDER = [
    [("now", "delivered"), (0.4, "sent")],
    [("now", "sent"), (0.2, "delivered"), (0.5, "sent")],
    [(0.1, "delivered"), (0.3, "queued"), (0.4, "sending"), (0.6, "sent")],
    [(0.5, "sent"), (0.2, "delivered"), (0.8, "delivered")],
]
_MESSAGE_PATH = re.compile(r"/Messages/(?P<sid>SM[0-9a-f]{32})\.json$")


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a client killed mid-request (the SIGKILL test) is expected here


class FakeTwilio:
    """Start with ``start()``; ``script(*answers)`` queues answers; ``accepted`` lists sends."""

    def __init__(self):
        self.lock = threading.Lock()
        self.answers: deque[str] = deque()
        self.lookup_answers: deque[str] = deque()
        self.accepted: list[dict] = []  # messages it took (each one would reach a phone)
        self.requests: list[tuple[float, str]] = []  # (time, answer) for every create
        self.lookups: list[str] = []  # the answer to every look-up in the Messages list
        self.fetched: list[str] = []  # the sid of every message fetched by sid
        self.statuses: dict[str, tuple[str, int | None]] = {}  # sid -> (status, error code)
        self.release = threading.Event()
        self.hang_seconds = 30.0
        # Fault-suite controls (see the module docstring); all off by default.
        self.latency = 0.0
        self.fault_cycle: list[str] = []
        self.fail_repeats: str | None = None
        self.callbacks: str | None = None  # None, "in-order" or "out-of-order"
        self.callback_results: list[tuple[str, int | None]] = []  # (status, HTTP status)
        self.in_flight = 0  # create requests not answered yet
        self._cycle_position = 0
        self._repeats_refused: set[tuple[str, str, int]] = set()
        self._plans = 0
        self._due: list[tuple[float, int, str, str, dict]] = []  # callbacks waiting
        self._posting = 0
        self._wake = threading.Condition(self.lock)
        self._stopped = False
        self._poster = ThreadPoolExecutor(4, thread_name_prefix="fake-twilio-callback")
        self.server = _QuietServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._scheduler = threading.Thread(target=self._schedule_callbacks, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> "FakeTwilio":
        self.thread.start()
        self._scheduler.start()
        return self

    def stop(self) -> None:
        self.release.set()
        with self.lock:
            self._stopped = True
            self._due.clear()
            self._wake.notify_all()
        self.server.shutdown()
        self.server.server_close()
        self._poster.shutdown(wait=False, cancel_futures=True)

    def script(self, *answers: str) -> None:
        with self.lock:
            self.answers.extend(answers)

    def script_lookups(self, *answers: str) -> None:
        """Queue answers ("500", "429") for the next look-ups in the Messages list."""
        with self.lock:
            self.lookup_answers.extend(answers)

    def reset(self) -> None:
        """Forget every message, answer and callback, and behave again (callbacks stay off)."""
        self.release.set()  # answers still hanging go out now
        with self.lock:
            self.release = threading.Event()
            self.answers.clear()
            self.lookup_answers.clear()
            self.lookups = []
            self.fetched = []
            self.statuses = {}
            self.accepted = []
            self.requests = []
            self.callback_results = []
            self.latency = 0.0
            self.fault_cycle = []
            self.fail_repeats = None
            self.callbacks = None
            self._cycle_position = 0
            self._repeats_refused.clear()
            self._due.clear()

    def callbacks_pending(self) -> int:
        """Return how many status callbacks are still to be posted or being posted."""
        with self.lock:
            return len(self._due) + self._posting

    def _answer_for(self, form: dict) -> str:
        """Pick the answer to one create request (called with the lock held)."""
        if self.answers:
            return self.answers.popleft()
        if self.fault_cycle:
            answer = self.fault_cycle[self._cycle_position % len(self.fault_cycle)]
            self._cycle_position += 1
            return answer
        if self.fail_repeats:
            to, body = form.get("To", ""), form.get("Body", "")
            taken = sum(1 for m in self.accepted if m["to"] == to and m["body"] == body)
            if taken and (to, body, taken) not in self._repeats_refused:
                self._repeats_refused.add((to, body, taken))
                return self.fail_repeats
        return "ok"

    def _accept(self, form: dict) -> dict:
        record = {
            "sid": "SM" + uuid.uuid4().hex,
            "to": form.get("To", ""),
            "from": form.get("From", ""),
            "body": form.get("Body", ""),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "date_created": formatdate(usegmt=True),
            "time": time.time(),
            "status": "queued",
        }
        with self.lock:
            self.accepted.append(record)
        return record

    def _plan_callbacks(self, record: dict, url: str) -> list[str]:
        """Schedule the status callbacks of a message just taken; return those due now."""
        if not self.callbacks or not url:
            return []
        with self.lock:
            if self.callbacks == "out-of-order":
                plan = OUT_OF_ORDER[self._plans % len(OUT_OF_ORDER)]
            else:
                plan = IN_ORDER
            self._plans += 1
            now_statuses = [status for when, status in plan if when == "now"]
            for when, status in plan:
                if when != "now":
                    heapq.heappush(
                        self._due, (time.monotonic() + when, self._plans, status, url, record)
                    )
            self._wake.notify_all()
        return now_statuses

    def _schedule_callbacks(self) -> None:
        with self.lock:
            while not self._stopped:
                if not self._due:
                    self._wake.wait(1)
                    continue
                wait = self._due[0][0] - time.monotonic()
                if wait > 0:
                    self._wake.wait(wait)
                    continue
                _, _, status, url, record = heapq.heappop(self._due)
                self._posting += 1
                self._poster.submit(self._post_callback_counted, url, status, record)

    def _post_callback_counted(self, url: str, status: str, record: dict) -> None:
        try:
            self.post_callback(url, status, record)
        finally:
            with self.lock:
                self._posting -= 1

    def post_callback(self, url: str, status: str, record: dict) -> int | None:
        """POST one status callback, signed like Twilio's; record and return the HTTP status.

        Like Twilio by default, a callback that fails is not posted again.
        """
        with self.lock:
            if STATUS_RANK.get(status, 0) > STATUS_RANK.get(record["status"], 0):
                record["status"] = status
        params = {
            "AccountSid": ACCOUNT_SID,
            "ApiVersion": "2010-04-01",
            "From": record["from"],
            "MessageSid": record["sid"],
            "MessageStatus": status,
            "SmsSid": record["sid"],
            "SmsStatus": status,
            "To": record["to"],
        }
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": RequestValidator(AUTH_TOKEN).compute_signature(url, params),
        }
        target = urlsplit(url)
        answer: int | None = None
        try:
            connection = HTTPConnection(target.hostname, target.port, timeout=15)
            try:
                connection.request("POST", target.path, urlencode(params), headers)
                response = connection.getresponse()
                response.read()
                answer = response.status
            finally:
                connection.close()
        except OSError:
            answer = None  # no answer at all: as bad as a 500 for Twilio
        with self.lock:
            self.callback_results.append((status, answer))
        return answer

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out as two writes; without this, Nagle's algorithm and the
            # client's delayed ACK hold every answer on a kept-alive connection for ~40 ms.
            disable_nagle_algorithm = True

            def log_message(self, *args):  # keep test output clean
                pass

            def _send(self, status: int, payload, content_type="application/json"):
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if not urlsplit(self.path).path.endswith("/Messages.json"):
                    return self._send(404, {"code": 20404, "message": "Not found"})
                with fake.lock:
                    answer = fake._answer_for(form)
                    fake.requests.append((time.time(), answer))
                    fake.in_flight += 1
                try:
                    return self._create(form, answer)
                finally:
                    with fake.lock:
                        fake.in_flight -= 1

            def _drop(self):
                # No answer at all: the client sees the connection closed under it.
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

            def _create(self, form: dict, answer: str):
                if answer == "drop":
                    return self._drop()
                if answer in ERRORS:
                    status, body = ERRORS[answer]
                    return self._send(status, {**body, "more_info": "", "status": status})
                if answer == "not-json":
                    return self._send(502, b"<html>Bad gateway</html>", "text/html")
                if answer == "ok-not-json":
                    fake._accept(form)
                    return self._send(201, b"<html>Created</html>", "text/html")
                record = fake._accept(form)
                for status in fake._plan_callbacks(record, form.get("StatusCallback", "")):
                    fake.post_callback(form["StatusCallback"], status, record)
                if answer == "drop-accepted":
                    return self._drop()
                if answer == "no-sid":
                    return self._send(201, _resource({**record, "sid": None}))
                if answer == "hang":
                    # Accepted, but the answer never comes back in time.
                    fake.release.wait(fake.hang_seconds)
                elif fake.latency:
                    time.sleep(fake.latency)
                return self._send(201, _resource({**record, "status": "queued"}))

            def do_GET(self):
                url = urlsplit(self.path)
                one = _MESSAGE_PATH.search(url.path)
                if one:
                    return self._fetch(one["sid"])
                if not url.path.endswith("/Messages.json"):
                    return self._send(404, {"code": 20404, "message": "Not found"})
                with fake.lock:
                    answer = fake.lookup_answers.popleft() if fake.lookup_answers else "ok"
                    fake.lookups.append(answer)
                if answer in ERRORS:
                    status, body = ERRORS[answer]
                    return self._send(status, {**body, "more_info": "", "status": status})
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                with fake.lock:
                    found = [
                        _resource(m)
                        for m in reversed(fake.accepted)
                        if m["to"] == query.get("To", m["to"])
                    ]
                return self._send(
                    200,
                    {
                        "messages": found[:50],
                        "first_page_uri": url.path,
                        "next_page_uri": None,
                        "previous_page_uri": None,
                        "page": 0,
                        "page_size": 50,
                        "uri": self.path,
                        "start": 0,
                        "end": len(found[:50]),
                    },
                )

            def _fetch(self, sid: str):
                with fake.lock:
                    fake.fetched.append(sid)
                    record = next((m for m in fake.accepted if m["sid"] == sid), None)
                    reached = record["status"] if record else "sent"
                    if reached == "queued":
                        reached = "sent"
                    status, error_code = fake.statuses.get(sid, (reached, None))
                if record is None:
                    return self._send(404, {"code": 20404, "message": "Not found", "status": 404})
                resource = _resource(record)
                resource.update(status=status, error_code=error_code)
                return self._send(200, resource)

        return Handler


def _resource(record: dict) -> dict:
    return {
        "account_sid": ACCOUNT_SID,
        "api_version": "2010-04-01",
        "body": record["body"],
        "date_created": record["date_created"],
        "date_sent": None,
        "date_updated": record["date_created"],
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": record["from"] or None,
        "messaging_service_sid": record["messaging_service_sid"],
        "num_media": "0",
        "num_segments": "1",
        "price": None,
        "price_unit": "USD",
        "sid": record["sid"],
        "status": record.get("status", "queued"),
        "to": record["to"],
        "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{record['sid']}.json",
    }
