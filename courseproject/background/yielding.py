"""The default queue's work yields to a burst of writes.

When registration opens, the web processes refuse writes as busy (enrollments/admission.py) until
the burst has drained. The default queue's work (emails, audit records, cache warming) can wait that
long; the enrolls cannot, and where the workers share cores with the web server (`make run`, one
host) or capacity with it (DynamoDB), each email sent during the burst slows it down. So while the
web's count of refused writes grows (the counters in the cache Redis, courseproject/observability/
counters.py), a worker stops taking messages from the default queue. They wait in the broker (a
task already taken runs to its end), and the worker takes them again WORKER_YIELD_GRACE_SECONDS
after it last saw the count grow (the web adds its counts once a second).

A stretch of yielding lasts at most WORKER_YIELD_MAX_SECONDS; the worker then works at least as
long before it yields again, so a sustained overload delays the emails and never starves them.
Promotions (the waitlist queue) and the metrics push never yield. WORKER_YIELD_MAX_SECONDS=0: never.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Any

from celery import bootsteps
from django.conf import settings

from courseproject.observability.counters import REFUSED_WRITES, total

logger = logging.getLogger(__name__)

CHECK_INTERVAL_SECONDS = 1.0  # the web processes add their counts to Redis once a second


@dataclass
class Yielding:
    """Whether to yield, decided from the total of refused writes, read once a check."""

    grace_seconds: float
    max_seconds: float
    refused_seen: int | None = None
    last_refusal_at: float = -math.inf
    yielding_since: float | None = None
    works_until: float = -math.inf  # after a stretch cut short by max_seconds

    @property
    def yielding(self) -> bool:
        return self.yielding_since is not None

    def observe(self, refused_total: int | None, now: float) -> bool:
        """Whether to yield from `now` on. refused_total None: it could not be read, which is no news."""
        if refused_total is not None:
            if self.refused_seen is not None and refused_total > self.refused_seen:
                self.last_refusal_at = now
            self.refused_seen = refused_total
        burst = now - self.last_refusal_at < self.grace_seconds
        if self.yielding_since is None:
            if burst and now >= self.works_until:
                self.yielding_since = now
        elif not burst:
            self.yielding_since = None
        elif now - self.yielding_since >= self.max_seconds:
            self.yielding_since = None
            self.works_until = now + self.max_seconds
        return self.yielding


class YieldToWriteBursts(bootsteps.StartStopStep):
    """A step of every worker's consumer (courseproject/celery.py adds it): each second, reads the
    refused writes and stops or resumes consuming the default queue. A worker that does not consume
    that queue (the waitlist's) does nothing."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        self.timer_entry: Any = None
        self.state: Yielding | None = None
        self.queue = ""
        super().__init__(parent, **kwargs)

    def start(self, consumer: Any) -> None:
        self.queue = consumer.app.conf.task_default_queue  # emails, audit records, cache warming
        if not settings.WORKER_YIELD_MAX_SECONDS or self.queue not in consumer.app.amqp.queues.consume_from:
            return
        if self.state is None:  # kept across a restart of the consumer: its time to work still holds
            self.state = Yielding(
                grace_seconds=settings.WORKER_YIELD_GRACE_SECONDS, max_seconds=settings.WORKER_YIELD_MAX_SECONDS
            )
        # The consumer's own timer: the checks run on its thread, between its reads of the broker.
        self.timer_entry = consumer.timer.call_repeatedly(CHECK_INTERVAL_SECONDS, self.check, (consumer, self.state))

    def check(self, consumer: Any, state: Yielding) -> None:
        was_yielding = state.yielding
        if state.observe(total(REFUSED_WRITES), time.monotonic()) == was_yielding:
            return
        if was_yielding:
            consumer.add_task_queue(self.queue)
            if state.works_until > time.monotonic():
                logger.warning(
                    "Writes are still refused after %d s of yielding: taking the %s queue again for at least as long",
                    state.max_seconds,
                    self.queue,
                )
            else:
                logger.info("The web no longer refuses writes: taking the %s queue again", self.queue)
        else:
            consumer.cancel_task_queue(self.queue)
            logger.info("The web refuses writes as busy: the %s queue waits until it stops", self.queue)

    def stop(self, consumer: Any) -> None:
        if self.timer_entry is not None:
            self.timer_entry.cancel()
            self.timer_entry = None
        if self.state is not None and self.state.yielding:
            # The consumer starts again after a lost connection with the queues selected then.
            queues = consumer.app.amqp.queues
            queues.select_add(queues[self.queue])
            self.state.yielding_since = None
            self.state.refused_seen = None  # the next check is a baseline again

    shutdown = stop
