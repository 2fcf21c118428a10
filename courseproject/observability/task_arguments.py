"""Task arguments stay out of logs and monitoring: they hold emails, names (an audit record's before
and after) and single-use links (a password reset's).

Celery copies a message's `argsrepr` and `kwargsrepr` headers into the worker's "received" and
"succeeded" log records, its events (Flower) and `celery inspect`; by default they are the values'
repr. `before_task_publish` replaces them, in every process that publishes, with the arguments'
names only. The worker still receives the arguments themselves; the JSON log lines also leave out
Celery's `data` extra (logs.py).
"""

from __future__ import annotations

from typing import Any

from celery.signals import before_task_publish


def names_only(args: Any, kwargs: Any) -> tuple[str, str]:
    """("(…, …)", "{'event_id': …, 'user_id': …}"): how many positional arguments, which keywords."""
    positional = "(" + ", ".join("…" for _ in args) + ")"
    keywords = "{" + ", ".join(f"{name!r}: …" for name in kwargs) + "}"
    return positional, keywords


@before_task_publish.connect(dispatch_uid="courseproject.hide_task_arguments")
def hide_task_arguments(*, headers: dict[str, Any], body: Any, **_: Any) -> None:
    # Message protocol 2 (Celery's default): the body is (args, kwargs, embed).
    if isinstance(body, (tuple, list)) and len(body) >= 2:
        headers["argsrepr"], headers["kwargsrepr"] = names_only(body[0] or (), body[1] or {})
