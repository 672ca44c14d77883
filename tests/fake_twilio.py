"""A small fake of Twilio's Messages API on loopback, for fault tests.

It answers the way Twilio does (JSON bodies, error codes) and can be told to misbehave:
each create request takes the next scripted answer, then "ok"; each look-up in the Messages
list takes the next answer scripted with ``script_lookups``. It counts what it accepted,
across every worker process, so tests can check that a message went out exactly once, and
serves each accepted message by sid with the status set in ``statuses`` (else "sent").
"""

import json
import threading
import time
import uuid
from collections import deque
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

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
        self.server = _QuietServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> "FakeTwilio":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def script(self, *answers: str) -> None:
        with self.lock:
            self.answers.extend(answers)

    def script_lookups(self, *answers: str) -> None:
        """Queue answers ("500", "429") for the next look-ups in the Messages list."""
        with self.lock:
            self.lookup_answers.extend(answers)

    def _accept(self, form: dict) -> dict:
        record = {
            "sid": "SM" + uuid.uuid4().hex,
            "to": form.get("To", ""),
            "from": form.get("From", ""),
            "body": form.get("Body", ""),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "date_created": formatdate(usegmt=True),
            "time": time.time(),
        }
        with self.lock:
            self.accepted.append(record)
        return record

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
                    answer = fake.answers.popleft() if fake.answers else "ok"
                    fake.requests.append((time.time(), answer))
                if answer in ERRORS:
                    status, body = ERRORS[answer]
                    return self._send(status, {**body, "more_info": "", "status": status})
                if answer == "not-json":
                    return self._send(502, b"<html>Bad gateway</html>", "text/html")
                if answer == "ok-not-json":
                    fake._accept(form)
                    return self._send(201, b"<html>Created</html>", "text/html")
                record = fake._accept(form)
                if answer == "no-sid":
                    return self._send(201, _resource({**record, "sid": None}))
                if answer == "hang":
                    # Accepted, but the answer never comes back in time.
                    fake.release.wait(fake.hang_seconds)
                return self._send(201, _resource(record))

            def do_GET(self):
                url = urlsplit(self.path)
                parts = url.path.rsplit("/", 1)
                if url.path.endswith(".json") and parts[-1].startswith("SM"):
                    return self._fetch(parts[-1].removesuffix(".json"))
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
                    status, error_code = fake.statuses.get(sid, ("sent", None))
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
        "status": "queued",
        "to": record["to"],
        "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{record['sid']}.json",
    }
