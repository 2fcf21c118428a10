"""What the benchmark reports per request, counted in every web process: requests, DynamoDB calls
by operation, the read and write capacity they consumed (ReturnConsumedCapacity=TOTAL), and each
route's requests and CPU. The Celery worker's calls are counted apart (fields prefixed "worker:").

A request's CPU is its thread's (time.thread_time) from Django's request_started to its
request_finished, which comes after the response was sent and the tasks the request queued were
published (courseproject/background/dispatch.py). What the web server spends outside Django (the
HTTP parsing, handing the request to a thread, waking it) is in the process's CPU, not here.

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
from django.core.signals import request_finished, request_started
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
    connect_request_cpu()


REQUEST_CPU_UIDS = ("bench-request-cpu-start", "bench-request-cpu-end")


def connect_request_cpu() -> None:
    # Connected last (this app comes last), so the publishes of the request's tasks are counted in.
    request_started.connect(start_request_cpu, dispatch_uid=REQUEST_CPU_UIDS[0])
    request_finished.connect(count_request_cpu, dispatch_uid=REQUEST_CPU_UIDS[1])


def disconnect_request_cpu() -> None:
    request_started.disconnect(dispatch_uid=REQUEST_CPU_UIDS[0])
    request_finished.disconnect(dispatch_uid=REQUEST_CPU_UIDS[1])


_request = threading.local()


def start_request_cpu(**_: Any) -> None:
    _request.cpu_started = time.thread_time()
    _request.route = None


def count_request_cpu(**_: Any) -> None:
    started, route = getattr(_request, "cpu_started", None), getattr(_request, "route", None)
    _request.cpu_started = _request.route = None
    if started is not None and route is not None:
        add(f"route_requests:{route}")
        add(f"route_cpu_ms:{route}", 1000 * (time.thread_time() - started))


def route_name(request: HttpRequest, response: HttpResponse) -> str:
    """The method and the URL pattern ("GET api/courses/<id:course_id>"), or the status when nothing matched."""
    match = request.resolver_match
    return (
        f"{request.method} {match.route}" if match is not None else f"{request.method} unmatched {response.status_code}"
    )


class RequestCounterMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        counted = not request.path.startswith(UNCOUNTED_PATHS)
        if counted:
            add("requests")
        response = self.get_response(request)
        if counted:
            _request.route = route_name(request, response)
        return response


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
