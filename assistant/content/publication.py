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

import random
import time

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

VERSION_KEY = "public-content-version"

# [version, monotonic time until which it holds] for this process.
_local = [0, 0.0]


def public_content_version() -> int:
    """Return the current version of the public content (read at most once a second)."""
    now = time.monotonic()
    if now < _local[1]:
        return _local[0]
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, random.randint(1, 2**40), timeout=None)
        version = cache.get(VERSION_KEY, 1)
    _local[0], _local[1] = int(version), now + settings.PUBLIC_CONTENT_VERSION_SECONDS
    return _local[0]


def public_content_version_forget() -> None:
    """Read the version from the cache next time (after ``cache.clear()``, for instance)."""
    _local[1] = 0.0


def public_content_changed() -> None:
    """Make every cached public page stale, once the current transaction commits."""

    def bump():
        try:
            cache.incr(VERSION_KEY)
        except ValueError:
            cache.set(VERSION_KEY, random.randint(1, 2**40), timeout=None)
        public_content_version_forget()

    transaction.on_commit(bump)
