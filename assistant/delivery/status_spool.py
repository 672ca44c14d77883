"""Status callbacks that arrive while PostgreSQL is down, kept in Redis and applied later.

Twilio does not send a status callback again later (see README), so one that cannot be
recorded is kept here — the sid, the status and the error code; no number, no text — and
applied by the stranded-work task (every few seconds) once the database answers. Statuses
only move forward, so applying them late, or in another order, is safe.
"""

import functools
import json
import logging

import redis
from django.conf import settings
from django.db import DatabaseError
from redis.exceptions import RedisError

from assistant.delivery.sending import outbound_status_update

logger = logging.getLogger(__name__)

STATUS_SPOOL_KEY = "sms:status-spool"
# A bound, so an outage that lasts cannot fill Redis: Twilio sends a few callbacks a message.
STATUS_SPOOL_MAX = 200_000


@functools.cache
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)


def outbound_status_keep(*, sid: str, status: str, error_code: int | None) -> bool:
    """Keep one status callback to apply later; return False when it cannot be kept."""
    if not settings.REDIS_URL:
        return False
    entry = json.dumps([sid, status, error_code])
    try:
        client = _client(settings.REDIS_URL)
        if client.llen(STATUS_SPOOL_KEY) >= STATUS_SPOOL_MAX:
            return False
        client.rpush(STATUS_SPOOL_KEY, entry)
    except (RedisError, OSError):
        return False
    logger.info("Status callback kept until the database answers.")
    return True


def outbound_status_apply_kept(*, limit: int = 5000) -> int:
    """Apply kept status callbacks, oldest first; return how many were applied.

    Each is removed only after it was applied, so a crash applies it again (harmless:
    statuses only move forward). Stops at the first database error.
    """
    if not settings.REDIS_URL:
        return 0
    client = _client(settings.REDIS_URL)
    applied = 0
    try:
        while applied < limit:
            entry = client.lindex(STATUS_SPOOL_KEY, 0)
            if entry is None:
                break
            try:
                sid, status, error_code = json.loads(entry)
            except (ValueError, TypeError):
                client.lpop(STATUS_SPOOL_KEY)
                continue
            try:
                outbound_status_update(sid=str(sid), status=str(status), error_code=error_code)
            except DatabaseError:
                logger.warning("Kept status callbacks not applied yet: the database is down.")
                break
            client.lpop(STATUS_SPOOL_KEY)
            applied += 1
    except (RedisError, OSError):
        logger.warning("Kept status callbacks not applied yet: Redis is down.")
    return applied
