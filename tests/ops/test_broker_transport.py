"""config/redis_transport.py: a channel kombu has let go of fails as a lost connection.

Celery reconnects after a redis ``ConnectionError``; any other exception while it closes a
lost connection ends the worker ("Unrecoverable error") until someone restarts it.
"""

import pytest
from kombu import Connection
from redis.exceptions import ConnectionError as RedisConnectionError

from config import redis_transport


@pytest.fixture
def broker(redis_url):
    connection = Connection(redis_url, transport=redis_transport.Transport)
    yield connection
    with connection.channel() as channel:
        channel.queue_purge(QUEUE)
    connection.release()
    redis_transport._unrestored.clear()
    redis_transport._unrecorded.clear()


QUEUE = "kyp-test-broker-transport"


def _detached_channel_holding_a_message(broker):
    """A channel with one unacknowledged message, detached as kombu's close_channel does."""
    channel = broker.channel()
    channel.queue_declare(QUEUE)
    channel.queue_purge(QUEUE)
    channel.basic_publish(channel.prepare_message("{}"), exchange="", routing_key=QUEUE)
    message = channel.basic_get(QUEUE, no_ack=False)
    assert message is not None
    broker.transport.close_channel(channel)  # kombu: channel.connection = None
    # The channel's pools went with the connection it lost (kombu's _disconnect_pools).
    channel._pool = channel._async_pool = None
    channel.__dict__.pop("client", None)
    return channel, message.delivery_tag


def test_a_detached_channel_raises_a_connection_error_not_an_attribute_error(broker):
    channel, tag = _detached_channel_holding_a_message(broker)
    assert channel.connection is None

    with pytest.raises(RedisConnectionError):
        channel._connparams()
    with pytest.raises(RedisConnectionError):
        channel.qos.ack(tag)  # an acknowledgement that arrives after the close
    channel.qos._delivered.clear()  # nothing left for kombu's at-exit restore to try


def test_closing_a_detached_channel_keeps_its_unacknowledged_messages_for_later(broker):
    channel, tag = _detached_channel_holding_a_message(broker)

    channel.close()  # kombu's own close raised AttributeError here

    assert channel.closed
    assert tag in redis_transport._unrestored

    # The next channel that reaches Redis puts it back on its queue.
    again = broker.channel()
    assert not redis_transport._unrestored
    assert again.basic_get(QUEUE, no_ack=True) is not None


def test_a_channel_borrows_one_client_per_pool_instead_of_building_one_per_command(broker):
    channel = broker.channel()
    channel.queue_declare(QUEUE)
    with channel.conn_or_acquire() as first, channel.conn_or_acquire() as second:
        assert first is second
    channel.basic_publish(channel.prepare_message("{}"), exchange="", routing_key=QUEUE)
    assert channel.basic_get(QUEUE, no_ack=True) is not None  # it still carries messages

    channel._disconnect_pools()  # as kombu does after a lost connection
    with channel.conn_or_acquire() as after:
        assert after is not first
        assert after.connection_pool is channel._pool
        assert after.ping()
