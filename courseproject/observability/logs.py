"""JSON log lines for production, built by python-json-logger, and the request id they carry.

LOG_FORMAT=json selects JsonFormatter (production's default); "plain" is for people. A JSON line is
one object: `time` (ISO 8601, UTC, milliseconds), `level`, `logger`, `message`, `request_id` (inside
a request, or a task that a request caused), the caller's `extra` fields (the request middleware's
line adds method, route, path, status, duration_ms, user_id and client_address), and `exception`
with the traceback.

`request_id_var` holds the id: the request middleware binds it for a request, dispatch.py again
when the request's tasks are published after its response, and task_request_id.py in the worker
for a task whose message carries it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.orjson import OrjsonFormatter

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

# The fields every line starts with, as LogRecord attributes, and the names they are written under.
LINE_FIELDS = ("asctime", "levelname", "name", "message", "request_id")
FIELD_NAMES = {"asctime": "time", "levelname": "level", "name": "logger", "exc_info": "exception"}
# Celery repeats its message's arguments in `extra` as `data`: task kwargs (an audit event's before
# and after) stay out of the log, and the message already names the task and its id.
LEFT_OUT_EXTRAS = ("data",)


@contextmanager
def request_id_bound(request_id: str | None) -> Iterator[None]:
    """Log (and publish tasks) on behalf of `request_id` inside the block; the previous id after it."""
    token = request_id_var.set(request_id)
    try:
        yield
    finally:
        request_id_var.reset(token)


class JsonFormatter(OrjsonFormatter):
    """One JSON object per line (see the module's docstring); fields without a value are left out."""

    def __init__(self, **options: Any) -> None:
        super().__init__(
            LINE_FIELDS,
            rename_fields=FIELD_NAMES,
            reserved_attrs=[*RESERVED_ATTRS, *LEFT_OUT_EXTRAS],
            **options,
        )

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        super().add_fields(log_data, record, message_dict)
        # A caller's `extra={"request_id": ...}` wins; otherwise the one being served.
        log_data["request_id"] = log_data.get("request_id") or request_id_var.get()

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        # A line outside any request has no request_id, an unmatched path no route: say nothing.
        return {field: value for field, value in log_data.items() if value is not None}
