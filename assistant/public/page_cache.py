"""Cache the residents' public pages, one copy per language, path and content version.

The key holds ``public_content_version()``, so when an import or a publish calls
``public_content_changed()`` every cached page goes stale at once and the next visitor gets
a freshly rendered page. Pages that depend on what the visitor typed (search) are not cached.
"""

import functools
import hashlib

from django.core.cache import cache
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import get_language
from redis.exceptions import RedisError

from assistant.content.publication import public_content_version

PAGE_TIMEOUT = 60 * 60 * 24
# Browsers and proxies may keep a page a short while only: the server-side copy is the one
# that is invalidated on publish.
BROWSER_MAX_AGE = 60


def page_cache_key(*, language: str, path: str, version: int) -> str:
    """Return the cache key of one rendered page.

    The day is part of the key because pages say how many days old ICE's list is.
    """
    digest = hashlib.sha256(path.encode()).hexdigest()[:32]
    day = timezone.localdate().isoformat()
    return f"page:v{version}:{day}:{language}:{digest}"


def cached_public_page(view):
    """Serve a GET page from the cache, or render it and keep it when it succeeded."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        version = public_content_version()
        if version is None:  # Redis is down: every visitor gets a freshly rendered page
            response = view(request, *args, **kwargs)
            patch_cache_control(response, public=True, max_age=BROWSER_MAX_AGE)
            return response
        key = page_cache_key(language=get_language(), path=request.path, version=version)
        try:
            cached = cache.get(key)
        except (RedisError, OSError):
            cached = None
        if cached is not None:
            response = cached
        else:
            response = view(request, *args, **kwargs)
            if response.status_code == 200 and not response.streaming:
                if hasattr(response, "render") and callable(response.render):
                    response = response.render()
                try:
                    cache.set(key, response, PAGE_TIMEOUT)
                except (RedisError, OSError):
                    pass  # served, not kept
        patch_cache_control(response, public=True, max_age=BROWSER_MAX_AGE)
        return response

    return wrapper
