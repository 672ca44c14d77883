"""Django's Redis cache, keeping one client per connection pool, and failing fast when down.

Django's ``RedisCacheClient.get_client`` builds a new ``redis.Redis`` for every call, and
redis-py fills ~170 response callbacks into each one: about 0.2 ms per cache read, twice per
cached public page (the content version, then the page). A client over a pool is safe to
share between threads, so one per pool is kept.

When Redis does not answer, each cache call waits for its socket timeout (settings.py), and
an incoming text touches the cache several times within Twilio's 15 seconds. So after a call
fails, every call fails at once (``redis.exceptions.ConnectionError``) for
``RETRY_AFTER_SECONDS`` before Redis is tried again, and the outage is logged once, not once
per call. Callers catch ``redis.exceptions.RedisError`` and go on without the cache.
"""

import functools
import logging
import threading
import time

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5.0


class _Outage:
    """Whether one Redis server failed a moment ago; logs when an outage starts and ends."""

    def __init__(self):
        self.retry_at = 0.0
        self.down = False
        self.lock = threading.Lock()

    def check(self) -> None:
        if time.monotonic() < self.retry_at:
            raise RedisConnectionError("The Redis cache did not answer a moment ago.")

    def failed(self, exc: Exception) -> None:
        with self.lock:
            self.retry_at = time.monotonic() + RETRY_AFTER_SECONDS
            if not self.down:
                self.down = True
                logger.warning("Redis cache not answering (%s); going on without it.", exc)

    def answered(self) -> None:
        if self.down:
            with self.lock:
                if self.down:
                    self.down = False
                    logger.warning("Redis cache answers again.")


# One per server and process (Django makes a cache object per thread). The key is never
# logged: a Redis URL may hold a password.
_outages: dict[str, _Outage] = {}
_outages_lock = threading.Lock()


def _outage_for(server: str) -> _Outage:
    with _outages_lock:
        return _outages.setdefault(server, _Outage())


def _failing_fast(method):
    @functools.wraps(method)
    def call(self, *args, **kwargs):
        outage = self._outage
        outage.check()
        try:
            result = method(self, *args, **kwargs)
        except RedisError as exc:
            outage.failed(exc)
            raise
        outage.answered()
        return result

    return call


class PooledClientRedisCacheClient(RedisCacheClient):
    def __init__(self, servers, *args, **kwargs):
        super().__init__(servers, *args, **kwargs)
        self._clients = {}
        self._outage = _outage_for(",".join(servers))

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client

    add = _failing_fast(RedisCacheClient.add)
    get = _failing_fast(RedisCacheClient.get)
    set = _failing_fast(RedisCacheClient.set)
    touch = _failing_fast(RedisCacheClient.touch)
    delete = _failing_fast(RedisCacheClient.delete)
    get_many = _failing_fast(RedisCacheClient.get_many)
    has_key = _failing_fast(RedisCacheClient.has_key)
    incr = _failing_fast(RedisCacheClient.incr)
    set_many = _failing_fast(RedisCacheClient.set_many)
    delete_many = _failing_fast(RedisCacheClient.delete_many)
    clear = _failing_fast(RedisCacheClient.clear)


class PooledClientRedisCache(RedisCache):
    """The Redis cache backend: one client per pool, failing fast when Redis is down."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = PooledClientRedisCacheClient
