"""The benchmark's CPU by route: each web process counts a request's thread CPU from Django's
request_started to its request_finished under its route, the runner turns two snapshots into CPU
per request and shares, and the report tables them."""

from __future__ import annotations

import time

import pytest
import redis
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import resolve

from benchmarks import instrumentation
from benchmarks.cpu_report import route_cpu_lines
from benchmarks.server_figures import Snapshot, server_figures


def snapshot(at: float, counters: dict[str, float], server_cpu: float) -> Snapshot:
    return Snapshot(at=at, counters=counters, lookups={}, server_cpu=server_cpu, dynamodb_cpu=0.0)


def test_server_figures_give_each_route_its_cpu_per_request_and_share_sorted_by_cpu():
    before = snapshot(
        0.0,
        {"requests": 100, "route_requests:GET api/courses": 50, "route_cpu_ms:GET api/courses": 20.0},
        server_cpu=1.0,
    )
    after = snapshot(
        12.0,
        {
            "requests": 1_100,
            "route_requests:GET api/courses": 950,
            "route_cpu_ms:GET api/courses": 290.0,  # 900 more requests, 270 ms more
            "route_requests:POST api/enrollments": 100,
            "route_cpu_ms:POST api/enrollments": 900.0,
        },
        server_cpu=3.0,
    )

    figures = server_figures(before, after, cache_enabled=False)

    assert figures["server_cpu_ms_per_request"] == pytest.approx(2.0)  # 2 s over 1,000 requests
    assert figures["django_cpu_ms_per_request"] == pytest.approx(1.17)  # 1,170 ms over 1,000
    assert figures["cpu_by_route"] == {
        "POST api/enrollments": {"requests": 100, "cpu_ms_per_request": 9.0, "share_of_django_cpu": 0.7692},
        "GET api/courses": {"requests": 900, "cpu_ms_per_request": 0.3, "share_of_django_cpu": 0.2308},
    }
    assert list(figures["cpu_by_route"]) == ["POST api/enrollments", "GET api/courses"]


def test_the_report_tables_the_product_s_routes_and_says_what_lies_outside_django():
    product = {
        "server_cpu_ms_per_request": 2.0,
        "django_cpu_ms_per_request": 1.17,
        "cpu_by_route": {
            "POST api/enrollments": {"requests": 100, "cpu_ms_per_request": 9.0, "share_of_django_cpu": 0.7692}
        },
    }

    lines = route_cpu_lines(product)

    assert "1.17 ms per request of the 2.00 ms its server spent" in lines[1]
    assert lines[-1] == "| `POST api/enrollments` | 100 | 9.00 | 76.9% |"
    assert route_cpu_lines({"server_cpu_ms_per_request": 2.0}) == []  # an older run, without routes
    assert route_cpu_lines(None) == []


@pytest.fixture
def counters():
    """The request-CPU receivers as the benchmarks app's ready() connects them (without its DynamoDB
    hooks, which would stay on the shared client for the rest of the suite); the counts, as the web
    processes flush them to Redis."""
    client = redis.Redis.from_url(settings.REDIS_URL, protocol=2)
    client.delete(instrumentation.COUNTERS_KEY)
    instrumentation.connect_request_cpu()

    def flushed(*fields: str) -> dict[str, float]:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            counts = {key.decode(): float(value) for key, value in client.hgetall(instrumentation.COUNTERS_KEY).items()}
            if all(field in counts for field in fields):
                return counts
            time.sleep(0.05)
        raise AssertionError(f"not flushed: {fields}")

    yield flushed
    instrumentation.disconnect_request_cpu()
    client.delete(instrumentation.COUNTERS_KEY)


def test_a_request_s_thread_cpu_is_counted_under_its_route_from_started_to_finished(counters):
    request = RequestFactory().get("/api/courses")
    request.resolver_match = resolve("/api/courses")

    request_started.send(sender=None)
    started = time.thread_time()
    while time.thread_time() - started < 0.02:  # 20 ms of this thread's CPU
        pass
    instrumentation.RequestCounterMiddleware(lambda request: HttpResponse())(request)
    request_finished.send(sender=None)

    counts = counters("route_requests:GET api/courses", "route_cpu_ms:GET api/courses")
    assert counts["requests"] == counts["route_requests:GET api/courses"] == 1
    assert counts["route_cpu_ms:GET api/courses"] >= 20
    # The receivers run after the request's own, the publishes of its tasks among them.
    assert request_finished.receivers[-1][0][0] == instrumentation.REQUEST_CPU_UIDS[1]


def test_a_request_without_a_route_is_counted_under_its_status_and_health_checks_not_at_all(counters):
    for path in ("/nowhere", "/api/health"):
        request_started.send(sender=None)
        instrumentation.RequestCounterMiddleware(lambda request: HttpResponse(status=404))(RequestFactory().post(path))
        request_finished.send(sender=None)

    counts = counters("route_requests:POST unmatched 404")
    assert counts["route_requests:POST unmatched 404"] == counts["requests"] == 1
