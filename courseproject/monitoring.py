"""GET /metrics: Prometheus text for the monitoring system (counters of all processes), and the
middleware that times every request."""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from courseproject import metrics
from courseproject.errors import error_body
from courseproject.rendering import JsonBytesResponse, dumps


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    if settings.METRICS_TOKEN:
        supplied = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(supplied.encode(), settings.METRICS_TOKEN.encode()):
            return JsonBytesResponse(dumps(error_body("A valid metrics token is required.", "not_authenticated")), 401)
    return HttpResponse(metrics.prometheus_text(), content_type="text/plain; version=0.0.4; charset=utf-8")


class RequestMetricsMiddleware:
    """Times every request into the shared latency histogram (pushed to CloudWatch by a task)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        metrics.record_request(duration_ms=(time.perf_counter() - started) * 1000, status=response.status_code)
        return response
