"""kombu's Redis transport, made to survive Redis going away under a busy worker.

kombu 5.7.0 (the latest release when this was written; no later one fixes it) can kill a
worker when Redis stops while the worker holds unacknowledged messages (late acks: tasks
running, prefetched or waiting for their ETA). Celery closes the lost connection twice: the
first close detaches the transport from its connection, the second asks the channel to put
its unacknowledged messages back, and the channel builds a Redis pool from the connection
that is gone: ``AttributeError: 'NoneType' object has no attribute 'hostname'`` in
``kombu/transport/redis.py`` ``_connparams``. Celery does not take that for a connection
error, so the worker exits ("Unrecoverable error") and stays down until someone restarts it.
The same missing connection breaks an acknowledgement that arrives after the close, and a
channel kombu has already detached from its connection (``channel.connection = None``) broke
the same way one step earlier (``'NoneType' object has no attribute 'client'``).

Here a channel whose connection is gone raises redis's ``ConnectionError`` instead, which
Celery expects while it closes a lost connection, and the worker reconnects on its own.

Either way Redis is down at that moment, so no channel can put the messages back. Their
delivery tags are remembered, and the first channel that opens once Redis answers again puts
them back on their queues; otherwise they would wait in Redis for ``visibility_timeout``
(two hours here). Putting a message back is a Redis transaction that does nothing when the
message is no longer unacknowledged, so doing it twice is harmless.

One more gap closes the same way: kombu takes a message off its queue (BRPOP), then records
it as unacknowledged; when Redis goes away between the two, the message was in neither place
and was lost. It is now kept in memory and put back on its queue once Redis answers.

And a channel that could not reach Redis makes every new channel in this process fail at
once for ``FAIL_FAST_SECONDS``: a web request that cannot queue its task then learns it
without waiting for another socket timeout (a frozen Redis accepts connections and never
answers). That is shorter than a worker's first reconnection interval (2 s), so it does not
delay a worker's return.

A task that is run again this way must be idempotent, as every task here already is (see
config/celery.py); the periodic re-queueing from PostgreSQL still covers a Redis that loses
its data.
"""

import logging
import threading
import time
from contextlib import contextmanager

from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# Delivery tags this process could not put back because Redis was down, and messages it
# took off a queue but could not record as unacknowledged (payload, exchange, routing key).
_unrestored: set[str] = set()
_unrecorded: list[tuple[dict, str, str]] = []
_unrestored_lock = threading.Lock()
FAIL_FAST_SECONDS = 2.0
_fail_fast_until = 0.0  # time.monotonic() before which a new channel fails at once


class QoS(kombu_redis.QoS):
    """Redis ack emulation that remembers what it could not put back during an outage."""

    def append(self, message, delivery_tag):
        """Record ``message`` as unacknowledged; keep it here if Redis went away meanwhile."""
        try:
            return super().append(message, delivery_tag)
        except (RedisError, OSError):
            delivery = message.delivery_info
            with _unrestored_lock:
                _unrecorded.append((message._raw, delivery["exchange"], delivery["routing_key"]))
            raise

    def restore_unacked(self, client=None):
        """Put this channel's unacknowledged messages back; remember them if Redis is down."""
        tags = list(self._delivered)
        try:
            return super().restore_unacked(client)
        except (RedisError, OSError):
            with _unrestored_lock:
                _unrestored.update(tags)
            self._delivered.clear()
            logger.warning(
                "Redis is down: %d unacknowledged message(s) go back on their queues once "
                "it answers again.",
                len(tags),
            )
            return None


class Channel(kombu_redis.Channel):
    """A Redis channel that fails like a lost connection, not an AttributeError."""

    QoS = QoS

    def __init__(self, *args, **kwargs):
        global _fail_fast_until
        if time.monotonic() < _fail_fast_until:
            raise RedisConnectionError("The broker did not answer a moment ago.")
        try:
            super().__init__(*args, **kwargs)  # pings Redis
        except (RedisError, OSError):
            _fail_fast_until = time.monotonic() + FAIL_FAST_SECONDS
            raise
        if _unrestored or _unrecorded:
            self._restore_unrestored()

    @contextmanager
    def conn_or_acquire(self, client=None):
        """Yield ``client``, or this channel's client for one command or pipeline.

        kombu builds a new ``redis.Redis`` for every publish and acknowledgement; a client
        only borrows connections from the channel's pool, so one per pool does the same work
        (in the webhook it was about 6% of a text's time). A new pool (after a lost
        connection) gets a new client.
        """
        if client:
            yield client
            return
        cached = self.__dict__.get("_pooled_client")
        if cached is None or self._pool is None or cached.connection_pool is not self._pool:
            cached = self._pooled_client = self._create_client()
        yield cached

    def _connparams(self, asynchronous=False):
        # kombu detaches a closed channel from its connection (``channel.connection = None``)
        # and a closed connection from its client: either way there is nothing to connect to.
        connection = self.connection
        if connection is None or connection.client is None:
            raise RedisConnectionError("The broker connection is closed.")
        return super()._connparams(asynchronous=asynchronous)

    def close(self):
        """Close, also when kombu already detached this channel from its connection."""
        if self.connection is None and not self.closed:
            # kombu's close starts with ``self.connection.cycle.discard(self)``: there is no
            # cycle left to leave. Its other steps remain: put the unacknowledged messages back
            # (remembered for later, as Redis cannot be reached from here) and close the pools.
            self.closed = True
            if self._qos:
                self._qos.restore_unacked_once()
            self._disconnect_pools()
            self._close_clients()
            return
        super().close()

    def _restore_unrestored(self) -> None:
        with _unrestored_lock:
            tags = sorted(_unrestored)
            unrecorded = list(_unrecorded)
        restored = 0
        try:
            for tag in tags:
                self.qos.restore_by_tag(tag)
                with _unrestored_lock:
                    _unrestored.discard(tag)
                restored += 1
            if unrecorded:
                with self.conn_or_acquire() as client, client.pipeline() as pipe:
                    for payload, exchange, routing_key in unrecorded:
                        self._do_restore_message(payload, exchange, routing_key, pipe)
                    pipe.execute()
                with _unrestored_lock:
                    del _unrecorded[: len(unrecorded)]
                restored += len(unrecorded)
        except (RedisError, OSError):
            pass  # down again: the next channel tries
        if restored:
            logger.warning(
                "Redis is back: put %d message(s) left unacknowledged back on their queues.",
                restored,
            )


class Transport(kombu_redis.Transport):
    """kombu's Redis transport with the channel above."""

    Channel = Channel
