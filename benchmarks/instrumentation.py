"""What the benchmark reports per request, counted in every gunicorn worker: requests, DynamoDB
calls by operation, and the read and write capacity they consumed (ReturnConsumedCapacity=TOTAL).
The Celery worker's calls are counted apart (fields prefixed "worker:").

Installed only by benchmarks.settings. Each process counts in memory and adds its counts to one
Redis hash (COUNTERS_KEY on the cache Redis) a few times a second, so the runner reads the totals
of all workers with one HGETALL. The baseline's per-request clients are instrumented the same way
(`instrument_client`).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import redis
from django.conf import settings
from django.http import HttpRequest, HttpResponse

from courseproject.dynamo.client import observe_client_events

logger = logging.getLogger(__name__)

COUNTERS_KEY = "bench:counters"
FLUSH_INTERVAL_SECONDS = 0.25
READ_OPERATIONS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"})
WRITE_OPERATIONS = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
# Requests the runner makes to read results are not part of the load.
UNCOUNTED_PATHS = ("/metrics", "/api/health")

# Web processes count under their own names; Celery's (emails, audit records) under "worker:".
ROLE_PREFIX = "worker:" if "celery" in os.path.basename(sys.argv[0]) else ""

_lock = threading.Lock()
_counts: Counter[str] = Counter()
_flusher_pid: int | None = None


def _reset_in_child() -> None:
    global _lock, _flusher_pid
    _lock = threading.Lock()
    _flusher_pid = None
    _counts.clear()


os.register_at_fork(after_in_child=_reset_in_child)


def add(field: str, amount: float = 1) -> None:
    if _flusher_pid != os.getpid():
        _start_flusher()
    with _lock:
        _counts[ROLE_PREFIX + field] += amount


def ask_for_capacity(params: dict[str, Any], model: Any, **_: Any) -> None:
    if model.name in READ_OPERATIONS or model.name in WRITE_OPERATIONS:
        params.setdefault("ReturnConsumedCapacity", "TOTAL")


def count_call(parsed: dict[str, Any], model: Any, **_: Any) -> None:
    consumed = parsed.get("ConsumedCapacity") if isinstance(parsed, dict) else None
    entries = consumed if isinstance(consumed, list) else [consumed] if consumed else []
    units = sum(float(entry.get("CapacityUnits", 0)) for entry in entries)
    add("dynamodb_calls")
    add(f"dynamodb_calls:{model.name}")
    if model.name in READ_OPERATIONS:
        add("read_capacity", units)
    elif model.name in WRITE_OPERATIONS:
        add("write_capacity", units)


def instrument_client(client: Any) -> Any:
    """Count the calls of a botocore client the shared one does not cover (the baseline's)."""
    client.meta.events.register("provide-client-params.dynamodb", ask_for_capacity)
    client.meta.events.register("after-call.dynamodb", count_call)
    return client


def install() -> None:
    observe_client_events("provide-client-params.dynamodb", ask_for_capacity)
    observe_client_events("after-call.dynamodb", count_call)


class RequestCounterMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(UNCOUNTED_PATHS):
            add("requests")
        return self.get_response(request)


def _start_flusher() -> None:
    global _flusher_pid
    with _lock:
        if _flusher_pid == os.getpid():
            return
        _flusher_pid = os.getpid()
    client = redis.Redis.from_url(settings.REDIS_URL, protocol=2, socket_timeout=1)

    def flush_forever() -> None:
        while True:
            time.sleep(FLUSH_INTERVAL_SECONDS)
            with _lock:
                counts = dict(_counts)
                _counts.clear()
            if not counts:
                continue
            try:
                pipeline = client.pipeline(transaction=False)
                for field, amount in counts.items():
                    pipeline.hincrbyfloat(COUNTERS_KEY, field, amount)
                pipeline.execute()
            except redis.RedisError:
                logger.warning("benchmark counters could not be flushed; keeping them for the next try")
                with _lock:
                    _counts.update(counts)

    threading.Thread(target=flush_forever, name="bench-counters", daemon=True).start()
