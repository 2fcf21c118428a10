"""How many tasks wait in each Celery queue on the broker: the figure the workers scale on.

The metrics push (cloudwatch.py) sends it every minute from a queue of its own (settings.METRICS_QUEUE),
so a backlog never delays the measurement of that backlog.
"""

from __future__ import annotations

import logging

from celery import current_app
from django.conf import settings
from kombu.exceptions import ChannelError, OperationalError
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


def celery_queue_names() -> list[str]:
    """The default queue and every queue a route names (waitlist, metrics), sorted."""
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values() if "queue" in route}
    return sorted({current_app.conf.task_default_queue, *routed})


def broker_queue_lengths() -> dict[str, int] | None:
    """Tasks waiting in each queue (all priority levels; tasks a worker holds unacknowledged not
    counted), or None when the broker cannot be reached."""
    lengths: dict[str, int] = {}
    try:
        with current_app.connection_for_read() as connection:
            connection.connect()  # one attempt, not the publisher's retries: the next push measures again
            with connection.channel() as channel:
                for queue in celery_queue_names():
                    try:
                        lengths[queue] = channel.queue_declare(queue=queue, passive=True).message_count
                    except ChannelError:  # Redis deletes an emptied list: a queue with no key is empty
                        lengths[queue] = 0
    except (OperationalError, RedisError, OSError) as error:
        logger.warning("Queue lengths not measured: the broker did not answer (%s)", error)
        return None
    return lengths
