"""Handing work to Celery after a committed write: never blocking the request, never losing the work.

`dispatch` publishes a task; inside a request it waits until the response has been sent (Django's
request_finished), so the student never waits for the broker. Web processes publish with short
socket timeouts (infra/gunicorn.conf.py). If the broker does not take a task, it goes to the
DynamoDB outbox (outbox.py), and after such a failure the broker's breaker sends tasks straight
there for BROKER_BREAKER_SECONDS, so an outage does not cost every request a timeout. The way left
to lose a task is for a process to die after its write committed and before the publish; the log
then shows the request but not the task.

Each task is published under the id of the request that queued it (kept with it, since the request
middleware has let go of the id by the time the response is sent): the message carries the id to
the worker's log lines, and a task kept in the outbox keeps it too (observability/task_request_id.py).
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

from celery import Task
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.dispatch import receiver

from courseproject.background.outbox import broker_breaker, save_to_outbox
from courseproject.observability.logs import request_id_bound, request_id_var
from courseproject.observability.task_arguments import names_only


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
    if not pending:
        return
    if len(pending) == 1 or broker_breaker.is_open():
        for task, event_id, kwargs, request_id in pending:
            with request_id_bound(request_id):
                _publish(task, event_id=event_id, **kwargs)
        return
    _publish_together(pending)


def dispatch(task: Task, *, event_id: str, **kwargs: Any) -> None:
    """Queue `task(event_id=..., **kwargs)` for a worker. Never raises: the write it follows succeeded."""
    pending = getattr(_request_local, "pending", None)
    if pending is not None and not settings.CELERY_TASK_ALWAYS_EAGER:  # eager means inline, now
        pending.append((task, event_id, kwargs, request_id_var.get()))
    else:
        _publish(task, event_id=event_id, **kwargs)


def _publish(task: Task, *, event_id: str, **kwargs: Any) -> None:
    task_kwargs = {"event_id": event_id, **kwargs}
    if not broker_breaker.is_open():
        try:
            _send(task, task_kwargs, producer=None)
            return
        except Exception as error:  # kombu raises many kinds; all mean "not queued"
            broker_breaker.trip(error)  # logs, at most once per trip
    save_to_outbox(task_name=task.name, event_id=event_id, task_kwargs=task_kwargs)


def _publish_together(pending: list[tuple[Task, str, dict[str, Any], str | None]]) -> None:
    """A request's tasks in one batch: one broker client and one round trip for all of them (an
    enroll's audit record and email cost the web process about 0.25 ms less). If the batch is not
    taken whole, every task of it goes to the outbox; any of them the broker did take runs once
    anyway, since task bodies are idempotent by event id."""
    try:
        with pending[0][0].app.producer_or_acquire() as producer, producer.batch():
            for task, event_id, kwargs, request_id in pending:
                with request_id_bound(request_id):
                    _send(task, {"event_id": event_id, **kwargs}, producer=producer)
        return
    except Exception as error:  # kombu raises many kinds; all mean "not queued"
        broker_breaker.trip(error)
    for task, event_id, kwargs, request_id in pending:
        with request_id_bound(request_id):
            save_to_outbox(task_name=task.name, event_id=event_id, task_kwargs={"event_id": event_id, **kwargs})


def _send(task: Task, task_kwargs: dict[str, Any], *, producer: Any) -> None:
    # The names-only reprs the publish signal would put in their place anyway (task_arguments.py),
    # given here so that Celery does not first repr every argument (~0.14 ms for an enrollment's).
    argsrepr, kwargsrepr = names_only((), task_kwargs)
    task.apply_async(
        kwargs=task_kwargs,
        task_id=f"{task_kwargs['event_id']}:{task.name}",
        argsrepr=argsrepr,
        kwargsrepr=kwargsrepr,
        producer=producer,
    )
