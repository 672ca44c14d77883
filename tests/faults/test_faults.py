"""The fault suite: a production-like stack broken the way an operator would break it.

Each scenario sends a burst of texts (FAULT_TEXTS from FAULT_RESIDENTS residents, at
FAULT_RATE texts a second) through gunicorn to real Celery workers and the fake Twilio,
breaks one part while texts come in or while replies go out, lets everything settle (up to
FAULT_SETTLE_SECONDS), and asserts what a resident would notice: no reply lost, none sent
twice, no message left unfinished, no webhook answered 500 (or not at all). Each prints its
row of the fault table; the whole table is printed at the end of the run (conftest.py).

The outages last FAULT_OUTAGE_SECONDS. Time constants that only make a scenario slow are
shortened (stack.py: the Twilio timeout, the first retry delay); those the requirements are
about (how soon stranded work is picked up, the beat schedule) are left as configured.

Run alone: ``pytest -m faults -p no:cacheprovider tests/faults``; full size:
``FAULT_TEXTS=1000 FAULT_RESIDENTS=250 FAULT_OUTAGE_SECONDS=20 pytest -m faults ...``.
"""

import threading
import time

import pytest

from tests.faults.burst import (
    OUTAGE_SECONDS,
    ROWS,
    SETTLE_SECONDS,
    Burst,
    Row,
    plan,
    table,
    tally,
)
from tests.faults.stack import FINAL

# django_db: so that pytest-django creates the test database, which the private one copies.
pytestmark = [pytest.mark.faults, pytest.mark.django_db]

# Each scenario's residents have numbers of their own (+1 <area> 555 xxxx).
AREAS = {
    "burst, no fault": 201,
    "Redis stopped mid-burst": 202,
    "PostgreSQL stopped mid-burst": 203,
    "worker SIGKILLed during sends": 204,
    "Twilio hangs, drops, 500, 429, recovers": 205,
    "two identical replies in two minutes": 206,
    "status callbacks out of order": 207,
}


class Progress:
    """Where a scenario's burst has got to, for a fault to wait for the moment it strikes."""

    def __init__(self, stack, burst: Burst, replies_due: int):
        self.stack, self.burst, self.replies_due = stack, burst, replies_due

    def texts_in(self, fraction: float) -> bool:
        """Wait until ``fraction`` of the texts have been sent to the webhook."""
        return self.burst.wait_posted(int(self.burst.total * fraction), timeout=120)

    def replies_out(self, fraction: float, timeout: float = 180) -> bool:
        """Wait until Twilio has been asked to send ``fraction`` of the replies due."""
        deadline = time.monotonic() + timeout
        while len(self.stack.fake.requests) < self.replies_due * fraction:
            if time.monotonic() > deadline:
                self.stack.fault_notes.append(
                    f"only {len(self.stack.fake.requests)} sends after {timeout:.0f} s"
                )
                return False
            time.sleep(0.05)
        return True


def wait_settled(stack, timeout: float) -> float | None:
    """Wait until nothing is pending or in flight for 2 seconds; return when that began."""
    started = time.monotonic()
    quiet_since, last_count = None, -1
    while time.monotonic() - started < timeout:
        counts = stack.unsettled()
        busy = stack.fake.callbacks_pending() + stack.fake.in_flight
        count = len(stack.fake.accepted)
        now = time.monotonic()
        if counts == (0, 0) and busy == 0 and count == last_count:
            quiet_since = quiet_since or now
            if now - quiet_since >= 2:
                return quiet_since - started
        else:
            quiet_since = None
        last_count = count
        time.sleep(0.5)
    return None


def run_scenario(stack, name: str, *, fault=None, prepare=None, repeat_zip=False) -> Row:
    """Reset the stack, send the burst while ``fault`` runs, let it settle, count, print."""
    stack.reset(restart=stack.needs_restart)
    texts = plan(AREAS[name], repeat_zip=repeat_zip)
    expected = {number: stack.replies_for[tuple(t)] for number, t in texts.items()}
    if prepare:
        prepare(stack)
    burst = Burst(stack.gunicorn.port, stack.public_url, texts)
    progress = Progress(stack, burst, sum(len(replies) for replies in expected.values()))
    fault_errors: list[BaseException] = []

    def break_something():
        try:
            fault(stack, progress)
        except BaseException as exc:  # noqa: BLE001 (raised below, in the test)
            fault_errors.append(exc)

    breaker = threading.Thread(target=break_something, daemon=True)
    if fault:
        breaker.start()
    answers = burst.run()
    if fault:
        breaker.join(600)
    settle = wait_settled(stack, SETTLE_SECONDS)
    row = count(stack, name, expected, answers, settle)
    stack.needs_restart = settle is None or any(not w.alive() for w in stack.workers)
    ROWS.append(row)
    print("\n" + "\n".join(table([row])))
    if fault_errors:
        raise fault_errors[0]
    return row


def count(stack, name: str, expected: dict[str, list[str]], answers, settle) -> Row:
    """Return the scenario's row of the table, with notes on what went wrong."""
    counts = stack.unsettled()
    statuses = stack.statuses()
    counted = tally(expected, list(stack.fake.accepted), answers)
    inbound_5xx = sum(1 for a in answers if a.status is None or a.status >= 500)
    callbacks_5xx = sum(
        1 for _status, code in stack.fake.callback_results if code is None or code >= 500
    )
    notes = list(stack.fault_notes)
    if inbound_5xx or callbacks_5xx:
        notes.append(f"5xx: {inbound_5xx} inbound, {callbacks_5xx} status callbacks")
    other = sum(1 for a in answers if a.status is not None and a.status != 200 and a.status < 500)
    if other:
        notes.append(f"{other} inbound answered 4xx")
    answered = [a.elapsed for a in answers if a.status is not None]
    if answered and max(answered) > 5:
        notes.append(f"slowest webhook answer {max(answered):.1f} s")
    refused = sum(1 for _at, answer in stack.fake.requests if answer != "ok")
    if refused:
        notes.append(f"Twilio misbehaved on {refused} of {len(stack.fake.requests)} sends")
    if counted.by_twiml:
        notes.append(f"{counted.by_twiml} replies in TwiML")
    if counted.unexpected:
        notes.append(f"{counted.unexpected} replies not due")
    if counted.out_of_order:
        notes.append(f"{counted.out_of_order} residents got their replies out of order")
    if counts != (0, 0):
        open_statuses = {s: n for s, n in statuses.items() if s not in FINAL}
        pending = "?" if counts is None else counts[0]
        notes.append(f"stuck: {pending} texts pending, messages {open_statuses}")
    if statuses.get("failed"):
        notes.append(f"{statuses['failed']} messages failed")
    for worker in stack.workers:
        if not worker.alive():
            critical = [line for line in worker.log().splitlines() if "CRITICAL" in line]
            notes.append(f"{worker.name} exited" + (f": {critical[-1][-160:]}" if critical else ""))
    return Row(
        scenario=name,
        residents=len(expected),
        texts=sum(1 for _ in answers),
        expected=counted.expected,
        delivered=counted.delivered,
        lost=counted.lost,
        doubled=counted.doubled,
        stuck=None if counts is None else sum(counts),
        webhook_5xx=inbound_5xx + callbacks_5xx,
        settle_seconds=settle,
        notes=notes,
    )


def outage(service) -> None:
    """Stop ``service`` for OUTAGE_SECONDS, then start it again."""
    service.stop()
    try:
        time.sleep(OUTAGE_SECONDS)
    finally:
        service.start()


def assert_held(row: Row) -> None:
    assert row.passed, (
        f"{row.scenario}: lost {row.lost}, doubled {row.doubled}, stuck {row.stuck}, "
        f"webhook 5xx {row.webhook_5xx} (all must be 0)\n" + "\n".join(table([row]))
    )


def test_a_burst_without_faults_reaches_every_resident_once(fault_stack):
    assert_held(run_scenario(fault_stack, "burst, no fault"))


def test_redis_stopped_mid_burst_loses_and_doubles_nothing(fault_stack):
    def stop_redis(stack, progress):
        # Twice: while texts come in, and while replies go out.
        progress.texts_in(0.25)
        outage(stack.redis)
        # Most replies go out in the webhook's TwiML during the first outage (with the
        # replies still queued for those residents), so fewer are left for the workers.
        progress.replies_out(0.1, timeout=60)
        outage(stack.redis)

    assert_held(run_scenario(fault_stack, "Redis stopped mid-burst", fault=stop_redis))


def test_postgresql_stopped_mid_burst_loses_and_doubles_nothing(fault_stack):
    def stop_postgres(stack, progress):
        # Twice: while texts come in, and while replies go out (and callbacks come back).
        progress.texts_in(0.25)
        outage(stack.postgres)
        progress.replies_out(0.25)
        outage(stack.postgres)

    assert_held(run_scenario(fault_stack, "PostgreSQL stopped mid-burst", fault=stop_postgres))


def test_a_worker_killed_during_sends_loses_and_doubles_nothing(fault_stack):
    def slow_twilio(stack):
        stack.fake.latency = 1.0  # sends stay in flight long enough to be cut

    def kill_a_worker(stack, progress):
        progress.replies_out(0.1)
        # Three sends in flight at once: each worker has two processes, so both workers,
        # the one killed included, are in the middle of a send.
        deadline = time.monotonic() + 30
        while stack.fake.in_flight < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        worker = stack.workers[0]
        killed_mid_send.append(stack.fake.in_flight)
        worker.kill()  # SIGKILL to the worker and its pool processes, mid-send
        stack.fault_notes.append(f"killed {worker.name} with {killed_mid_send[0]} sends in flight")
        time.sleep(2)
        stack.fake.latency = 0.0
        worker.start()  # what the supervisor does
        worker.wait_ready()

    killed_mid_send: list[int] = []
    row = run_scenario(
        fault_stack, "worker SIGKILLed during sends", prepare=slow_twilio, fault=kill_a_worker
    )
    assert killed_mid_send and killed_mid_send[0] >= 3, "the worker was not killed mid-send"
    assert_held(row)


def test_twilio_hanging_dropping_and_refusing_then_recovering_loses_and_doubles_nothing(
    fault_stack,
):
    def misbehave(stack, progress):
        progress.replies_out(0.1)
        # Each request takes the next answer: accepted but answered too late, cut before it
        # was taken, cut after it was taken, a server error, too many requests.
        cycle = ["hang", "drop", "drop-accepted", "500", "429"]
        stack.fake.fault_cycle = cycle
        try:
            time.sleep(OUTAGE_SECONDS)
            # At least one request of each kind, however slowly the sends come.
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and sum(
                1 for _at, answer in stack.fake.requests if answer != "ok"
            ) < len(cycle):
                time.sleep(0.05)
        finally:
            stack.fake.fault_cycle = []

    row = run_scenario(fault_stack, "Twilio hangs, drops, 500, 429, recovers", fault=misbehave)
    misbehaved = {answer for _at, answer in fault_stack.fake.requests if answer != "ok"}
    assert misbehaved == {"hang", "drop", "drop-accepted", "500", "429"}, (
        f"the fault hit too few sends to test each answer: {misbehaved or 'none'}"
    )
    assert_held(row)


def test_two_identical_replies_within_two_minutes_both_arrive_once(fault_stack):
    """A resident sends their ZIP code twice and is due the same answer twice.

    The second answer's first attempt gets a 500 (Twilio did not take it), so its outcome is
    unknown and it is looked up before it is sent again: the look-up must not take the first,
    identical answer for it.
    """

    def refuse_repeats_once(stack):
        stack.fake.fail_repeats = "500"

    row = run_scenario(
        fault_stack,
        "two identical replies in two minutes",
        prepare=refuse_repeats_once,
        repeat_zip=True,
    )
    assert any(answer == "500" for _at, answer in fault_stack.fake.requests), (
        "no repeated reply was refused: the scenario tested nothing"
    )
    assert_held(row)


def test_status_callbacks_out_of_order_leave_every_message_final(fault_stack):
    def scramble_callbacks(stack):
        stack.fake.callbacks = "out-of-order"

    assert_held(
        run_scenario(fault_stack, "status callbacks out of order", prepare=scramble_callbacks)
    )
