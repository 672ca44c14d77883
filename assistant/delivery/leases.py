"""Which messages have a deliver task alive: a lease per message, in the cache (Redis).

``outbound_requeue_stale`` runs every few seconds and re-queues a message that is still
queued or sending only when nothing holds its lease. Every step of a task's life renews it
for as long as that step can take:

- on the broker's queue (just enqueued, or deferred with a countdown): the countdown plus
  ``SMS_REQUEUE_AFTER_SECONDS``, since a task waits its turn there behind an alert's
  thousands; a queue that Redis lost takes the leases with it, so those are re-queued at once;
- received by a worker (``task_received``; a deferred task waits there for its ETA): until
  its ETA plus one run;
- running: one run (pacing, a look-up or an attempt: ``TWILIO_TIMEOUT_SECONDS`` and a
  margin), renewed before each call to Twilio.

A worker that dies takes its received and running tasks with it; their leases end within
seconds and the messages are re-queued, where Redis would give them back only after its
visibility timeout (hours). A lease is only a hint: a message re-queued while its task still
lives is not sent twice (the row lock and ``outcome_unknown`` in delivery.sending see to
that), so a cache that cannot be reached is logged and ignored.

Keys hold message ids only.
"""

import logging
import math
import threading
import time

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

_KEY = "delivery:lease:{id}"


def run_lease_seconds() -> float:
    """Return how long one run of the deliver task may take: a turn, then one call."""
    return settings.SMS_PACE_MAX_WAIT_SECONDS + 2 * settings.TWILIO_TIMEOUT_SECONDS + 5


def queue_lease_seconds(countdown: float = 0) -> float:
    """Return how long a task put on the broker's queue may wait there before it counts as lost."""
    return max(0.0, countdown) + settings.SMS_REQUEUE_AFTER_SECONDS


# The last lease this thread held: (message id, until, on time.monotonic()). A renewal that
# would end it at most RENEWED_WITHIN_SECONDS later (never sooner) is not sent to Redis: a
# task's run holds its message's lease, then renews it before calling Twilio, usually a
# few milliseconds later (one round trip to Redis per message saved).
_last = threading.local()
RENEWED_WITHIN_SECONDS = 1.0


def lease_hold(message_ids, seconds: float) -> None:
    """Mark a task alive for each of ``message_ids`` for the next ``seconds``."""
    ids = [message_ids] if isinstance(message_ids, int) else list(message_ids)
    if not ids:
        return
    now = time.monotonic()
    last = getattr(_last, "hold", None)
    until = now + seconds
    if (
        len(ids) == 1
        and last
        and last[0] == ids[0]
        and 0 <= until - last[1] <= RENEWED_WITHIN_SECONDS
    ):
        return  # held until a moment before that already
    timeout = max(1, math.ceil(seconds))
    try:
        cache.set_many({_KEY.format(id=message_id): 1 for message_id in ids}, timeout=timeout)
    except Exception:  # a hint only (see the module docstring)
        logger.warning("Could not record the lease of %d message(s).", len(ids), exc_info=True)
        _last.hold = None
        return
    _last.hold = (ids[0], until) if len(ids) == 1 else None


def lease_release(message_id: int) -> None:
    """Forget the lease of ``message_id``: no task of it is left."""
    _last.hold = None
    try:
        cache.delete(_KEY.format(id=message_id))
    except Exception:
        logger.warning("Could not release the lease of message %s.", message_id, exc_info=True)


def lease_unheld(message_ids: list[int]) -> list[int]:
    """Return those of ``message_ids`` whose lease has ended (no task holds them).

    Raise the cache's error when it cannot be read: the caller skips its run then.
    """
    held = cache.get_many([_KEY.format(id=message_id) for message_id in message_ids])
    return [message_id for message_id in message_ids if _KEY.format(id=message_id) not in held]
