"""Handing work to Celery after a committed write: never blocking the request, never losing the work.

`dispatch` publishes a task; inside a request it waits until the response has been sent (Django's
request_finished), so the student never waits for the broker. Web processes publish with short
socket timeouts (infra/gunicorn.conf.py). If the broker does not take a task, it is written to the
DynamoDB outbox, and `relay_outbox` (on beat every OUTBOX_RELAY_INTERVAL_SECONDS, or
`manage.py relay_outbox`) publishes it once the broker is back. After a failure a breaker sends
tasks straight to the outbox for BROKER_BREAKER_SECONDS, so an outage does not cost every request a
timeout. Inside the worker, a task whose retry cannot be published goes to the outbox too, and one
that fails for good (out of retries, over its time limit) is kept there as a dead letter for an
operator (`manage.py relay_outbox --dead` re-queues them). Tasks carry an event id and are
idempotent, so publishing one twice is harmless. The way left to lose a task is for a process to
die after its write committed and before the publish; the log then shows the request but not the task.

`background_task` is the task decorator with the reliability options every task here shares.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Callable
from smtplib import SMTPException
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from celery import Task, current_app, shared_task
from celery.exceptions import Reject, SoftTimeLimitExceeded
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.dispatch import receiver
from django.utils import timezone
from pynamodb.exceptions import PynamoDBException
from redis.exceptions import RedisError

from courseproject.models import OUTBOX_DEAD, OUTBOX_SHARDS, OutboxEvent, outbox_pending_status

logger = logging.getLogger(__name__)

# Failures worth retrying: the dependency may answer on the next try.
TRANSIENT_ERRORS = (PynamoDBException, BotoCoreError, ClientError, RedisError, SMTPException, OSError)
RELAY_BATCH = 100


class RetryLater(Exception):
    """Raised by a task that must wait for something (another worker's claim) and be retried."""


class ReliableTask(Task):
    """Keeps a task in the outbox where Celery would drop it: a retry that cannot be published,
    and a final failure (out of retries, over a time limit), which becomes a dead letter."""

    def retry(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().retry(*args, **kwargs)
        except Reject as rejection:  # the broker refused the retry; Celery would drop the message
            save_to_outbox(
                task_name=self.name,
                event_id=self.request.kwargs["event_id"],
                task_kwargs=self.request.kwargs,
                reason=f"retry not published: {rejection.reason}",
            )
            raise

    def on_failure(self, exc: BaseException, task_id: str, args: tuple, kwargs: dict, einfo: Any) -> None:
        logger.error("Task %s[%s] failed for good, kept as a dead letter: %r", self.name, task_id, exc)
        save_to_outbox(
            task_name=self.name,
            event_id=kwargs["event_id"],
            task_kwargs=kwargs,
            dead=True,
            reason=f"{type(exc).__name__}: {exc}"[:1000],
        )


def background_task(name: str) -> Callable[[Callable[..., Any]], Task]:
    """A Celery task that is acknowledged late, requeued on worker loss, retried with exponential
    backoff and full jitter on transient errors (and a soft time limit), and kept as a dead letter
    when it fails for good. Its body must be idempotent and take `event_id`."""
    return shared_task(
        name=name,
        base=ReliableTask,
        acks_late=True,
        reject_on_worker_lost=True,
        autoretry_for=(*TRANSIENT_ERRORS, RetryLater, SoftTimeLimitExceeded),
        retry_backoff=True,
        retry_backoff_max=settings.CELERY_RETRY_BACKOFF_MAX_SECONDS,
        retry_jitter=True,
        max_retries=settings.CELERY_TASK_MAX_RETRIES,
    )


class _BrokerBreaker:
    def __init__(self) -> None:
        self._open_until = 0.0
        self._lock = threading.Lock()

    def is_open(self) -> bool:
        return time.monotonic() < self._open_until

    def trip(self) -> None:
        with self._lock:
            self._open_until = time.monotonic() + settings.BROKER_BREAKER_SECONDS

    def reset(self) -> None:
        self._open_until = 0.0


broker_breaker = _BrokerBreaker()


def new_event_id() -> str:
    return uuid.uuid4().hex


_request_local = threading.local()


@receiver(request_started)
def _collect_dispatches(**_: Any) -> None:
    _publish_collected_dispatches()  # left over if the last response of this thread was never closed
    _request_local.pending = []


@receiver(request_finished)
def _publish_collected_dispatches(**_: Any) -> None:
    """After the response went out: publish what the request's writes queued."""
    pending, _request_local.pending = getattr(_request_local, "pending", None), None
    for task, event_id, kwargs in pending or []:
        _publish(task, event_id=event_id, **kwargs)


def dispatch(task: Task, *, event_id: str, **kwargs: Any) -> None:
    """Queue `task(event_id=..., **kwargs)` for a worker. Never raises: the write it follows succeeded."""
    pending = getattr(_request_local, "pending", None)
    if pending is not None and not settings.CELERY_TASK_ALWAYS_EAGER:  # eager means inline, now
        pending.append((task, event_id, kwargs))
    else:
        _publish(task, event_id=event_id, **kwargs)


def _publish(task: Task, *, event_id: str, **kwargs: Any) -> None:
    task_kwargs = {"event_id": event_id, **kwargs}
    if not broker_breaker.is_open():
        try:
            task.apply_async(kwargs=task_kwargs, task_id=f"{event_id}:{task.name}")
            return
        except Exception as error:  # kombu raises many kinds; all mean "not queued"
            broker_breaker.trip()
            logger.warning("Broker did not take %s (%s); keeping it in the outbox", task.name, error)
    save_to_outbox(task_name=task.name, event_id=event_id, task_kwargs=task_kwargs)


def save_to_outbox(
    *, task_name: str, event_id: str, task_kwargs: dict[str, Any], dead: bool = False, reason: str | None = None
) -> None:
    status = OUTBOX_DEAD if dead else outbox_pending_status(random.randrange(OUTBOX_SHARDS))
    try:
        OutboxEvent(
            event_id=f"{event_id}:{task_name}",
            task_name=task_name,
            task_kwargs=task_kwargs,
            status=status,
            created_at=timezone.now(),
            reason=reason,
        ).save()
    except Exception:
        # Last resort: the full task is in the log, from which it can be replayed by hand.
        logger.critical(
            "LOST TASK %s %r: neither the broker nor the outbox took it", task_name, task_kwargs, exc_info=True
        )


def relay_pending(*, dead: bool = False, limit: int = RELAY_BATCH) -> int:
    """Publish up to `limit` pending (or, with `dead`, dead-lettered) outbox tasks, oldest first per
    shard; returns how many went out."""
    statuses = [OUTBOX_DEAD] if dead else [outbox_pending_status(shard) for shard in range(OUTBOX_SHARDS)]
    relayed = 0
    for status in statuses:
        for event in OutboxEvent.by_status.query(status, limit=limit):
            try:
                current_app.send_task(event.task_name, kwargs=event.task_kwargs, task_id=event.event_id)
            except Exception as error:
                logger.warning("Broker still unavailable (%s); %d outbox tasks relayed this round", error, relayed)
                return relayed
            event.delete()
            relayed += 1
    if relayed:
        broker_breaker.reset()
        logger.info("Relayed %d tasks from the outbox", relayed)
    return relayed


def relay_until_empty(*, dead: bool = False, budget_seconds: float = 20.0) -> int:
    """Relay rounds until the outbox is empty, the broker fails, or the time budget is spent."""
    deadline = time.monotonic() + budget_seconds
    total = 0
    while time.monotonic() < deadline and (relayed := relay_pending(dead=dead)):
        total += relayed
    return total
