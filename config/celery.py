"""The Celery app, configured from Django settings (the ``CELERY_`` names in settings.py).

Why the delivery settings are what they are (settings.py holds the values):

- ``task_acks_late``: a task is acknowledged after it finishes, not when it is received, so a
  worker that dies mid-task leaves the message on the broker to be run again. That is only
  safe because every task here is idempotent: ``deliver`` never calls Twilio for a message
  that already has a Twilio sid.
- ``task_reject_on_worker_lost``: with late acks, a task whose worker *process* was killed
  (SIGKILL, out of memory) is requeued instead of being marked failed and forgotten.
- ``worker_prefetch_multiplier = 1``: a worker reserves one task at a time, so a dying worker
  strands at most one message, and a slow send does not hold others hostage.
- ``broker_transport_options.visibility_timeout`` (2 hours): Redis redelivers an unacked
  task after this long. It must exceed the longest retry countdown (``task_max_retry_delay``,
  15 minutes) and any ETA we schedule, or Redis would hand the same task to a second worker
  while the first is still waiting on it.
- ``CELERY_MAX_REDELIVERIES``: bounded redelivery. A task that keeps killing its worker (a
  poison message) would otherwise be redelivered forever; ``BoundedRedeliveryTask`` counts
  deliveries per task id in Redis and gives up after this many, calling ``on_redelivery_exhausted``
  so the task can record a visible failure.
- ``worker_cancel_long_running_tasks_on_connection_loss``: if the broker connection drops,
  the running late-ack tasks are cancelled so that they are redelivered, rather than finishing
  into an acknowledgement the broker can no longer receive.
- The ``redis://`` and ``rediss://`` brokers use ``config.redis_transport``: kombu's own
  transport, less a crash that stopped workers for good when Redis went away under load (it
  says how). The socket timeouts and ``max_retries`` in ``broker_transport_options`` are
  short so that a web request whose task cannot be queued learns it within a second or two
  and answers without the queue.
- ``CELERY_DB_REUSE_MAX``: Celery's Django fix-up closes every database connection before
  and after every task unless this is set, so each task paid for a new PostgreSQL connection
  (a quarter of a worker's time in a 10,000-text alert, profiled with py-spy). With it set,
  ``_database_connections_checked`` below treats each task as Django treats a request: the
  connection is kept for ``CONN_MAX_AGE``, checked before reuse (``CONN_HEALTH_CHECKS``), and
  closed after an error, so a restarted PostgreSQL costs a task nothing more than a reconnect.
"""

import functools
import logging
import os

import kombu.transport
from celery import Celery
from celery.contrib.django.task import DjangoTask
from celery.signals import task_postrun, task_prerun, worker_init
from redis.exceptions import RedisError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

logger = logging.getLogger(__name__)

# By alias rather than with ``broker_transport``: kombu still reads the scheme (rediss:// means
# TLS) and only the class it loads changes. Set before any broker connection is made.
kombu.transport.TRANSPORT_ALIASES["redis"] = "config.redis_transport:Transport"
kombu.transport.TRANSPORT_ALIASES["rediss"] = "config.redis_transport:Transport"


class BoundedRedeliveryTask(DjangoTask):
    """A task that refuses to run once it has been delivered too many times.

    A DjangoTask, so that it has ``delay_on_commit``.
    """

    abstract = True

    def on_redelivery_exhausted(self, *args, **kwargs):
        """Record that this task gave up after too many deliveries. Override per task."""

    def __call__(self, *args, **kwargs):
        from django.conf import settings

        if not self.app.conf.task_always_eager and self.request.id:
            try:
                deliveries = _count_delivery(self.request.id)
            except RedisError:
                # Redis went away after handing over the task: run it (every task here is
                # idempotent) rather than fail it for want of a count.
                logger.warning("Task %s: Redis down, delivery not counted.", self.request.id)
                deliveries = 0
            if deliveries > settings.CELERY_MAX_REDELIVERIES:
                logger.error(
                    "Task %s (%s) was delivered %d times; giving up.",
                    self.name,
                    self.request.id,
                    deliveries,
                )
                return self.on_redelivery_exhausted(*args, **kwargs)
        return super().__call__(*args, **kwargs)


@functools.cache
def _redis(url: str):
    """Return this process's client for ``url``: one connection pool, not one per task."""
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)


def _count_delivery(task_id: str) -> int:
    """Return how many times the task with this id has started, counting this time."""
    from django.conf import settings

    client = _redis(settings.REDIS_URL)
    key = f"kyp:deliveries:{task_id}"
    with client.pipeline() as pipe:
        pipe.incr(key)
        pipe.expire(key, 24 * 60 * 60)
        count, _ = pipe.execute()
    return int(count)


@task_prerun.connect
@task_postrun.connect
def _database_connections_checked(sender=None, **kwargs) -> None:
    """Around each task, what Django does around each request: close a connection that is
    broken or past ``CONN_MAX_AGE``, keep the others (see ``CELERY_DB_REUSE_MAX`` above)."""
    from django.db import close_old_connections

    # An eager task runs inside its caller's request or transaction: left to the caller.
    if not getattr(getattr(sender, "request", None), "is_eager", False):
        close_old_connections()


@worker_init.connect
def _place_names_loaded(**kwargs) -> None:
    """Load the place names (the gazetteer) in the worker's main process, before it forks
    its pool: every process of the pool then starts with them. Each used to build them for
    its first text (about half a second of CPU on this 2-core machine, while that resident
    waited), again after every restart of a pool process. Read from the bundled data files:
    no database connection is opened before the fork."""
    from assistant.places.search import default_gazetteer

    default_gazetteer()


app = Celery("config", task_cls=BoundedRedeliveryTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
# Each feature keeps its tasks in its own tasks.py (their ``name=`` is the old
# ``assistant.tasks.*`` one, so tasks already queued still run).
FEATURES_WITH_TASKS = ("ops", "delivery", "alerts", "sms", "ice_import", "trust")
app.autodiscover_tasks([f"assistant.{feature}" for feature in FEATURES_WITH_TASKS])
