"""The DynamoDB outbox: tasks the broker could not take wait here, and are relayed once it is back.

`save_to_outbox` keeps a task (pending, on one of OUTBOX_SHARDS index keys, or dead after it failed
for good); `relay_pending` publishes them oldest first per shard and deletes what went out. Beat runs
`relay_outbox` every OUTBOX_RELAY_INTERVAL_SECONDS, and `manage.py relay_outbox [--dead]` does the
same by hand. Tasks carry an event id and are idempotent, so relaying one twice is harmless.

A task's kwargs are its arguments and cannot carry message headers, so the request id it was
published under (if any: the request's, or the task's that retried it) is kept beside them, and the
relay publishes the task under it again: the worker's lines still name the request that caused it.
"""

from __future__ import annotations

import logging
import random
import time
from typing import Any

from celery import current_app
from django.utils import timezone

from courseproject.background.models import OUTBOX_DEAD, OUTBOX_SHARDS, OutboxEvent, outbox_pending_status
from courseproject.breaker import CircuitBreaker
from courseproject.observability.logs import request_id_bound, request_id_var

logger = logging.getLogger(__name__)

# After the broker refused a task, tasks go straight to the outbox for BROKER_BREAKER_SECONDS.
broker_breaker = CircuitBreaker(
    name="Celery broker",
    open_seconds_setting="BROKER_BREAKER_SECONDS",
    consequence="tasks are kept in the outbox until it answers",
    logger=logger,
)

RELAY_BATCH = 100


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
            request_id=request_id_var.get(),
        ).save()
    except Exception:
        # Last resort: the task's name and event id are in the log, for whoever repairs by hand. Not
        # its arguments' values: they hold emails, names and single-use links.
        logger.critical(
            "LOST TASK %s[%s:%s] with arguments %s: neither the broker nor the outbox took it",
            task_name,
            event_id,
            task_name,
            ", ".join(task_kwargs),
            exc_info=True,
        )


def relay_pending(*, dead: bool = False, limit: int = RELAY_BATCH) -> int:
    """Publish up to `limit` pending (or, with `dead`, dead-lettered) outbox tasks, oldest first per
    shard; returns how many went out."""
    statuses = [OUTBOX_DEAD] if dead else [outbox_pending_status(shard) for shard in range(OUTBOX_SHARDS)]
    relayed = 0
    for status in statuses:
        for event in OutboxEvent.by_status.query(status, limit=limit):
            try:
                with request_id_bound(event.request_id):  # its message's header, as when first published
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
