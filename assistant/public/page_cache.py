"""Cache the residents' public pages, one copy per language, path and content version.

The key holds ``public_content_version()``, so when an import or a publish calls
``public_content_changed()`` every cached page goes stale at once and the next visitor gets
a freshly rendered page. Pages that depend on what the visitor typed (search) are not cached.

Two levels: each process keeps the last ``PUBLIC_PAGES_IN_MEMORY`` pages it served (a page
seen again costs no round trip to Redis: the version is read at most once a second, see
``content.publication``), and Redis holds every page for all processes. When Redis cannot be
reached the page is rendered as if nothing were cached: a resident still gets it.
"""

import functools
import hashlib
import logging
from collections import OrderedDict
from threading import Lock

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import get_language
from redis.exceptions import RedisError

from assistant.content.publication import public_content_version, public_content_version_forget

logger = logging.getLogger(__name__)

PAGE_TIMEOUT = 60 * 60 * 24
# Browsers and proxies may keep a page a short while only: the server-side copy is the one
# that is invalidated on publish.
BROWSER_MAX_AGE = 60

# key -> (status, content, headers) of pages this process rendered or fetched.
_pages: OrderedDict[str, tuple[int, bytes, tuple]] = OrderedDict()
_pages_lock = Lock()


def page_cache_key(*, language: str, path: str, version: int) -> str:
    """Return the cache key of one rendered page.

    The day is part of the key because pages say how many days old ICE's list is.
    """
    digest = hashlib.sha256(path.encode()).hexdigest()[:32]
    day = timezone.localdate().isoformat()
    return f"page:v{version}:{day}:{language}:{digest}"


def pages_in_memory_clear() -> None:
    """Forget this process's copies of pages and of the content version."""
    with _pages_lock:
        _pages.clear()
    public_content_version_forget()


def _remember(key: str, response) -> None:
    if settings.PUBLIC_PAGES_IN_MEMORY <= 0:
        return
    kept = (response.status_code, response.content, tuple(response.items()))
    with _pages_lock:
        _pages[key] = kept
        _pages.move_to_end(key)
        while len(_pages) > settings.PUBLIC_PAGES_IN_MEMORY:
            _pages.popitem(last=False)


def _from_memory(key: str) -> HttpResponse | None:
    with _pages_lock:
        kept = _pages.get(key)
    if kept is None:
        return None
    status, content, headers = kept
    response = HttpResponse(content, status=status)
    for name, value in headers:
        response[name] = value
    return response


def cached_public_page(view):
    """Serve a GET page from memory or the cache, or render it and keep it when it succeeded."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            version = public_content_version()
            if version is None:
                raise RedisError("the content version cannot be read")
            key = page_cache_key(language=get_language(), path=request.path, version=version)
            response = _from_memory(key)
            if response is None:
                response = cache.get(key)
                if response is not None:
                    _remember(key, response)
        except (RedisError, OSError):
            logger.warning("The page cache cannot be reached; rendering %s.", request.path)
            key, response = None, None
        if response is None:
            response = view(request, *args, **kwargs)
            if key and response.status_code == 200 and not response.streaming:
                if hasattr(response, "render") and callable(response.render):
                    response = response.render()
                _remember(key, response)
                try:
                    cache.set(key, response, PAGE_TIMEOUT)
                except (RedisError, OSError):
                    logger.warning("The page cache cannot be reached; %s not kept.", request.path)
        patch_cache_control(response, public=True, max_age=BROWSER_MAX_AGE)
        return response

    return wrapper
