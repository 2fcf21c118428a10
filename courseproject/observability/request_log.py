"""The middleware that identifies, times and logs every request."""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject, empty

from courseproject.api.client import client_address
from courseproject.observability.counters import record_request
from courseproject.observability.logs import request_id_bound

request_logger = logging.getLogger("courseproject.requests")
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:=-]{8,128}")


def _user_id_of(request: HttpRequest) -> str | None:
    """Who made the request, as far as it is already known: the API's token user, or an admin the
    view has loaded. Logging never reads DynamoDB to find out (the admin's user is lazy)."""
    user = getattr(request, "user", None)
    if isinstance(user, SimpleLazyObject) and user._wrapped is empty:
        return None
    return getattr(user, "user_id", None)


class RequestMetricsMiddleware:
    """Gives every request an id (the load balancer's X-Request-Id if well-formed, else a new one),
    binds it for every log line written while serving it, returns it in X-Request-Id, times the
    request into the shared latency histogram, and logs one line per request: method, route, path,
    status, duration, user, client address (JSON in production). The tasks the request publishes
    carry the id on (task_request_id.py)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        # META, not request.headers, which would copy every header first; a new id is 32 random hex
        # digits as uuid4().hex was, without building a UUID (a fifth of the cost, on every request).
        supplied = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = supplied if REQUEST_ID_PATTERN.fullmatch(supplied) else os.urandom(16).hex()
        with request_id_bound(request_id):
            response = self.get_response(request)
            duration_ms = (time.perf_counter() - started) * 1000
            record_request(duration_ms=duration_ms, status=response.status_code)
            response["X-Request-Id"] = request_id
            # Built only when written (REQUEST_LOG): the line's fields cost a cached read a twentieth of its CPU.
            if request_logger.isEnabledFor(logging.INFO):
                _log_request(request, response, duration_ms)
            return response


def _log_request(request: HttpRequest, response: HttpResponse, duration_ms: float) -> None:
    match = getattr(request, "resolver_match", None)
    request_logger.info(
        "%s %s %s %.1fms",
        request.method,
        request.path,
        response.status_code,
        duration_ms,
        extra={
            "method": request.method,
            "route": match.route if match else None,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round(duration_ms, 2),
            "user_id": _user_id_of(request),
            # Behind load balancers, the address NUM_PROXIES entries from the end of X-Forwarded-For.
            "client_address": client_address(request),
        },
    )
