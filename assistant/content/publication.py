"""Tell the public pages that what they show has changed.

Cached pages include ``public_content_version()`` in their keys, so one increment makes
every cached page stale at once: a resident never sees an old answer after an import or a
publish.
"""

import logging
import threading

from django.core.cache import cache
from django.db import transaction
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

VERSION_KEY = "public-content-version"
# Set when a change could not be announced because Redis was down: Redis may come back with
# the pages it kept, so this process announces it again before it next reads the version.
_change_pending = threading.Event()


def public_content_version() -> int | None:
    """Return the current version of the public content; None when the cache is down."""
    if _change_pending.is_set():
        _bump()
    try:
        version = cache.get(VERSION_KEY)
        if version is None:
            cache.add(VERSION_KEY, 1, timeout=None)
            version = cache.get(VERSION_KEY, 1)
    except (RedisError, OSError):
        return None
    return int(version)


def _bump() -> None:
    try:
        try:
            cache.incr(VERSION_KEY)
        except ValueError:
            cache.set(VERSION_KEY, 2, timeout=None)
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
