"""The request id carried from a request into the log lines of the Celery tasks it caused.

Publishing, in any process: `before_task_publish` copies the bound request id (logs.request_id_var)
into the message's `request_id` header. A request's tasks are published after its response, when
the middleware has let go of the id, so dispatch.py binds it again around each publish; the outbox
keeps the id beside the task (its kwargs are the task's arguments, not headers) and the relay binds
it when it publishes; a task that publishes (a retry, a follow-up task) passes its own id on.

Running, in the worker's pool process: `task_prerun` binds the header's id for the task, so its
lines and Celery's own "succeeded"/"retry"/"failed" lines carry it; `task_postrun` lets it go. The
"received" line comes from the worker's main process before any task code runs: it has the task
id only. Tasks run eagerly (tests) are not published: they run inside the request, under its id.
"""

from __future__ import annotations

from contextvars import Token
from typing import Any

from celery import Task
from celery.signals import before_task_publish, task_postrun, task_prerun

from courseproject.observability.logs import request_id_var

REQUEST_ID_HEADER = "request_id"

# The binding each running task made, by task id, for task_postrun to undo.
_bindings: dict[str, Token[str | None]] = {}


@before_task_publish.connect(dispatch_uid="courseproject.request_id_header")
def add_request_id_header(*, headers: dict[str, Any], **_: Any) -> None:
    request_id = request_id_var.get()
    if request_id:
        headers.setdefault(REQUEST_ID_HEADER, request_id)  # an explicit apply_async(headers=...) wins


def request_id_of(task: Task) -> str | None:
    """The request id the running task's message carried, if any."""
    return (task.request.headers or {}).get(REQUEST_ID_HEADER)


@task_prerun.connect(dispatch_uid="courseproject.bind_request_id")
def bind_request_id(*, task_id: str, task: Task, **_: Any) -> None:
    request_id = request_id_of(task)
    if request_id:  # without one, an eager task keeps the id of the request it runs in
        _bindings[task_id] = request_id_var.set(request_id)


@task_postrun.connect(dispatch_uid="courseproject.unbind_request_id")
def unbind_request_id(*, task_id: str, **_: Any) -> None:
    token = _bindings.pop(task_id, None)
    if token is not None:
        request_id_var.reset(token)
