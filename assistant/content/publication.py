"""Tell the public pages that what they show has changed.

Cached pages include ``public_content_version()`` in their keys, so one increment makes
every cached page stale at once: a resident never sees an old answer after an import or a
publish.

Each process keeps the version it last read for ``PUBLIC_CONTENT_VERSION_SECONDS`` (1 s by
default), so a cached page costs no round trip to Redis; the process that changes the content
forgets its copy at once, the others within that second. The first version is random, not 1,
so a Redis that restarts empty never gives a version that a process already used for pages
of older content.
"""

import logging
import random
import threading
import time

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

VERSION_KEY = "public-content-version"
# Set when a change could not be announced because Redis was down: Redis may come back with
# the pages it kept, so this process announces it again before it next reads the version.
_change_pending = threading.Event()

# [version, monotonic time until which it holds] for this process.
_local = [0, 0.0]


def public_content_version() -> int | None:
    """Return the current version of the public content; None when the cache is down.

    Read from the cache at most once per ``PUBLIC_CONTENT_VERSION_SECONDS``.
    """
    if _change_pending.is_set():
        _bump()
    now = time.monotonic()
    if now < _local[1]:
        return _local[0]
    try:
        version = cache.get(VERSION_KEY)
        if version is None:
            cache.add(VERSION_KEY, random.randint(1, 2**40), timeout=None)
            version = cache.get(VERSION_KEY, 1)
    except (RedisError, OSError):
        return None
    _local[0], _local[1] = int(version), now + settings.PUBLIC_CONTENT_VERSION_SECONDS
    return _local[0]


def public_content_version_forget() -> None:
    """Read the version from the cache next time (after ``cache.clear()``, for instance)."""
    _local[1] = 0.0


def _bump() -> None:
    public_content_version_forget()
    try:
        try:
            cache.incr(VERSION_KEY)
        except ValueError:
            cache.set(VERSION_KEY, random.randint(1, 2**40), timeout=None)
    except (RedisError, OSError):
        if not _change_pending.is_set():
            _change_pending.set()
            logger.error(
                "Redis down: cached public pages could not be marked stale; this process "
                "tries again when it next serves a page."
            )
        return
    _change_pending.clear()


def public_content_changed() -> None:
    """Make every cached public page stale, once the current transaction commits."""
    transaction.on_commit(_bump)
