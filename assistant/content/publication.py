"""Tell the public pages that what they show has changed.

Cached pages include ``public_content_version()`` in their keys, so one increment makes
every cached page stale at once: a resident never sees an old answer after an import or a
publish.
"""

from django.core.cache import cache
from django.db import transaction

VERSION_KEY = "public-content-version"


def public_content_version() -> int:
    """Return the current version of the public content."""
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, 1, timeout=None)
        version = cache.get(VERSION_KEY, 1)
    return int(version)


def public_content_changed() -> None:
    """Make every cached public page stale, once the current transaction commits."""

    def bump():
        try:
            cache.incr(VERSION_KEY)
        except ValueError:
            cache.set(VERSION_KEY, 2, timeout=None)

    transaction.on_commit(bump)
