"""GET /metrics: Prometheus text for the monitoring system (cache counters of all processes)."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from courseproject.caching import metrics
from courseproject.errors import error_body
from courseproject.rendering import JsonBytesResponse, dumps


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    if settings.METRICS_TOKEN:
        supplied = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(supplied.encode(), settings.METRICS_TOKEN.encode()):
            return JsonBytesResponse(dumps(error_body("A valid metrics token is required.", "not_authenticated")), 401)
    return HttpResponse(metrics.prometheus_text(), content_type="text/plain; version=0.0.4; charset=utf-8")
