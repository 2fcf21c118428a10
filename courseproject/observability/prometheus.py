"""GET /metrics: Prometheus text for the monitoring system, from the counters of all processes."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from courseproject.api.errors import error_body, json_not_found
from courseproject.api.rendering import JsonBytesResponse, dumps
from courseproject.observability.counters import REFUSED_WRITES, cache_counts, hit_rate, latency_histogram, totals


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not settings.METRICS_ENABLED:  # production without METRICS_TOKEN: as if there were no such page
        return json_not_found(request)
    if settings.METRICS_TOKEN:
        supplied = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(supplied.encode(), settings.METRICS_TOKEN.encode()):
            return JsonBytesResponse(dumps(error_body("A valid metrics token is required.", "not_authenticated")), 401)
    return HttpResponse(prometheus_text(), content_type="text/plain; version=0.0.4; charset=utf-8")


def prometheus_text() -> str:
    counters = totals()
    lines = [
        "# HELP course_cache_lookups_total Cache lookups by key family and outcome, all processes.",
        "# TYPE course_cache_lookups_total counter",
    ]
    for (family, outcome), count in sorted(cache_counts(counters).items()):
        lines.append(f'course_cache_lookups_total{{family="{family}",outcome="{outcome}"}} {count}')
    rate = hit_rate(counters)
    lines += [
        "# HELP course_cache_hit_ratio Hits over lookups since the counters started, all families.",
        "# TYPE course_cache_hit_ratio gauge",
        f"course_cache_hit_ratio {rate if rate is not None else 'NaN'}",
        "# HELP course_cache_local_copy_lookups_total Lookups of the processes' own copies of cached reads"
        " (a hit needs no Redis round trip), by outcome, all processes.",
        "# TYPE course_cache_local_copy_lookups_total counter",
        *(
            f'course_cache_local_copy_lookups_total{{outcome="{outcome}"}} {counters.get(f"copies:{outcome}", 0)}'
            for outcome in ("hit", "miss")
        ),
        "# HELP course_request_duration_seconds Time to answer a request, all processes.",
        "# TYPE course_request_duration_seconds histogram",
    ]
    cumulative = 0
    for bound_ms, count in latency_histogram(counters):
        cumulative += count
        bound = "+Inf" if bound_ms == float("inf") else f"{bound_ms / 1000:g}"
        lines.append(f'course_request_duration_seconds_bucket{{le="{bound}"}} {cumulative}')
    lines += [
        f"course_request_duration_seconds_sum {counters.get('request:sum_us', 0) / 1e6}",
        f"course_request_duration_seconds_count {counters.get('request:count', 0)}",
        "# HELP course_requests_total Requests by status class, all processes.",
        "# TYPE course_requests_total counter",
    ]
    for status_class in ("2xx", "3xx", "4xx", "5xx"):
        lines.append(
            f'course_requests_total{{status="{status_class}"}} {counters.get(f"request:status:{status_class}", 0)}'
        )
    lines += [
        "# HELP course_writes_refused_total Writes answered writes_busy (429): write slots and queue full.",
        "# TYPE course_writes_refused_total counter",
        f"course_writes_refused_total {counters.get(REFUSED_WRITES, 0)}",
        "# HELP course_waitlist_outcomes_total Waitlist places ended, by outcome, all processes.",
        "# TYPE course_waitlist_outcomes_total counter",
    ]
    for outcome in ("promoted", "waitlist_skipped", "waitlist_expired"):
        lines.append(f'course_waitlist_outcomes_total{{outcome="{outcome}"}} {counters.get(f"waitlist:{outcome}", 0)}')
    lines += [
        "# HELP course_waitlist_promotion_lag_seconds_sum Time seats stood free before a promotion took them.",
        "# TYPE course_waitlist_promotion_lag_seconds_sum counter",
        f"course_waitlist_promotion_lag_seconds_sum {counters.get('waitlist:lag_ms_sum', 0) / 1000}",
    ]
    return "\n".join(lines) + "\n"
