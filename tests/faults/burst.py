"""The burst of texts a scenario sends, how its outcome is counted, and the table it prints.

Residents text /sms/inbound through gunicorn, signed like Twilio, from a pool of clients at a
steady rate; each resident's texts go one after another, in order. What reaches a phone is
what the fake Twilio accepted for the number plus what a webhook answered in its TwiML.
Against the replies each resident must get (computed from the conversation, see
expected_replies.py) that gives:

- lost: a reply the resident should have got and did not;
- doubled: the same reply reaching the resident more times than it was due (a text the
  resident was not due, sent twice, counts too);
- webhook 5xx: an answer of 500 or more, or no answer at all within Twilio's 15 seconds,
  from /sms/inbound or /sms/status (the fake Twilio's callbacks).
"""

import os
import threading
import time
import uuid
import xml.etree.ElementTree as ElementTree
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.client import HTTPConnection
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER

CLIENTS = 8
TWILIO_WEBHOOK_TIMEOUT = 15.0
# One script per language: a first text, a ZIP code, then menu choices.
OPENINGS = [
    ("hola necesito ayuda", "11550"),
    ("hello I need help", "10001"),
    ("xin chào, tôi cần giúp đỡ", "60601"),
    ("bonjour j'ai besoin d'aide", "33101"),
]
MENU = ["1", "2", "3", "4"]


def _env_number(name: str, default, kind=int):
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, not {raw!r}") from None
    if value <= 0:
        raise ValueError(f"{name} must be above 0")
    return value


TEXTS = _env_number("FAULT_TEXTS", 200)
RESIDENTS = min(_env_number("FAULT_RESIDENTS", 50), TEXTS)
RATE = _env_number("FAULT_RATE", 40.0, float)  # texts per second, all residents together
OUTAGE_SECONDS = _env_number("FAULT_OUTAGE_SECONDS", 4.0, float)
SETTLE_SECONDS = _env_number("FAULT_SETTLE_SECONDS", 120.0, float)


def script(index: int, count: int, *, repeat_zip: bool = False) -> list[str]:
    """Return the ``count`` texts resident ``index`` sends (with ``repeat_zip``, the ZIP twice)."""
    opening, zip_code = OPENINGS[index % len(OPENINGS)]
    texts = [opening, zip_code] + ([zip_code] if repeat_zip else [])
    texts += [MENU[(index + turn) % len(MENU)] for turn in range(count)]
    return texts[:count]


def plan(area: int, *, repeat_zip: bool = False) -> dict[str, list[str]]:
    """Return each resident's number and texts: TEXTS texts among RESIDENTS residents."""
    each, extra = divmod(TEXTS, RESIDENTS)
    return {
        f"+1{area}555{index:04d}": script(
            index, each + (1 if index < extra else 0), repeat_zip=repeat_zip
        )
        for index in range(RESIDENTS)
    }


@dataclass
class Answer:
    """What /sms/inbound answered to one text (``status`` None: no answer in time)."""

    number: str
    status: int | None
    replies: list[str]
    at: float
    elapsed: float  # seconds the webhook took to answer


class Burst:
    """Send every resident's texts to /sms/inbound; ``posted`` counts the texts sent so far."""

    def __init__(self, port: int, public_url: str, texts: dict[str, list[str]]):
        self.port, self.public_url, self.texts = port, public_url, texts
        self.total = sum(len(t) for t in texts.values())
        self.posted = 0
        self.answers: list[Answer] = []
        self.finished = threading.Event()
        self._lock = threading.Condition()
        self._next_slot = 0.0
        self._validator = RequestValidator(AUTH_TOKEN)

    def wait_posted(self, count: int, timeout: float = 60) -> bool:
        """Wait until ``count`` texts have been sent; return False on timeout."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self.posted < count:
                left = deadline - time.monotonic()
                if left <= 0 or self.finished.is_set():
                    return self.posted >= count
                self._lock.wait(left)
        return True

    def run(self) -> list[Answer]:
        self._next_slot = time.monotonic()
        pool = ThreadPoolExecutor(CLIENTS)
        try:
            for answers in pool.map(self._resident, self.texts.items()):
                self.answers.extend(answers)
        finally:
            # Interrupted (Ctrl-C, SIGTERM): the clients stop after the text they are sending.
            self.finished.set()
            pool.shutdown(wait=True, cancel_futures=True)
            with self._lock:
                self._lock.notify_all()
        return self.answers

    def _take_slot(self) -> None:
        with self._lock:
            start = max(self._next_slot, time.monotonic())
            self._next_slot = start + 1 / RATE
        time.sleep(max(0.0, start - time.monotonic()))

    def _resident(self, item: tuple[str, list[str]]) -> list[Answer]:
        number, texts = item
        answers = []
        for body in texts:
            if self.finished.is_set():
                break
            self._take_slot()
            answers.append(self._text(number, body))
            with self._lock:
                self.posted += 1
                self._lock.notify_all()
        return answers

    def _text(self, number: str, body: str) -> Answer:
        params = {
            "MessageSid": "SM" + uuid.uuid4().hex,
            "AccountSid": ACCOUNT_SID,
            "From": number,
            "To": FROM_NUMBER,
            "Body": body,
            "NumMedia": "0",
        }
        url = self.public_url + "/sms/inbound"
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": self._validator.compute_signature(url, params),
        }
        started = time.monotonic()
        try:
            connection = HTTPConnection("127.0.0.1", self.port, timeout=TWILIO_WEBHOOK_TIMEOUT)
            try:
                connection.request("POST", "/sms/inbound", urlencode(params), headers)
                response = connection.getresponse()
                content = response.read()
            finally:
                connection.close()
        except OSError:
            return Answer(number, None, [], time.time(), time.monotonic() - started)
        replies = []
        if response.status == 200 and b"<Message" in content:
            root = ElementTree.fromstring(content)
            replies = ["".join(message.itertext()) for message in root.iter("Message")]
        return Answer(number, response.status, replies, time.time(), time.monotonic() - started)


@dataclass
class Tally:
    """Replies due and replies that reached the residents, compared."""

    expected: int = 0
    delivered: int = 0
    lost: int = 0
    doubled: int = 0
    unexpected: int = 0
    out_of_order: int = 0  # residents who got every reply due, not in the order due
    by_twiml: int = 0


def tally(expected: dict[str, list[str]], accepted: list[dict], answers: list[Answer]) -> Tally:
    """Compare the replies each resident was due with what reached their phone."""
    received: dict[str, list[tuple[float, str]]] = {number: [] for number in expected}
    for message in accepted:
        received.setdefault(message["to"], []).append((message["time"], message["body"]))
    result = Tally()
    for answer in answers:
        for reply in answer.replies:
            received.setdefault(answer.number, []).append((answer.at, reply))
            result.by_twiml += 1
    for number, got in received.items():
        due = expected.get(number, [])
        bodies = [body for _at, body in sorted(got, key=lambda item: item[0])]
        due_count, got_count = Counter(due), Counter(bodies)
        result.expected += len(due)
        result.delivered += len(bodies)
        result.lost += sum(max(0, n - got_count[body]) for body, n in due_count.items())
        result.doubled += sum(max(0, n - max(due_count[body], 1)) for body, n in got_count.items())
        result.unexpected += sum(1 for body in got_count if body not in due_count)
        if due_count == got_count and bodies != due:
            result.out_of_order += 1
    return result


@dataclass
class Row:
    """One line of the fault table."""

    scenario: str
    residents: int
    texts: int
    expected: int
    delivered: int
    lost: int
    doubled: int
    stuck: int | None  # None: the database could not be reached to count
    webhook_5xx: int
    settle_seconds: float | None  # None: not settled within SETTLE_SECONDS
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return (self.lost, self.doubled, self.stuck, self.webhook_5xx) == (0, 0, 0, 0)

    def cells(self) -> list[str]:
        settle = (
            f"{self.settle_seconds:.1f} s"
            if self.settle_seconds is not None
            else f"not in {SETTLE_SECONDS:.0f} s"
        )
        return [
            self.scenario,
            str(self.residents),
            str(self.texts),
            str(self.expected),
            str(self.delivered),
            str(self.lost),
            str(self.doubled),
            "?" if self.stuck is None else str(self.stuck),
            str(self.webhook_5xx),
            settle,
            "; ".join(self.notes),
        ]


HEADER = [
    "scenario", "residents", "texts", "replies expected", "replies delivered", "lost",
    "doubled", "stuck", "webhook 5xx", "time to settle", "notes",
]  # fmt: skip
# Every row printed so far in this session, for the terminal summary (conftest.py).
ROWS: list[Row] = []


def table(rows: list[Row]) -> list[str]:
    """Return the rows as a Markdown table, one string per line."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in rows]
    return lines
