"""`make bench-scale`'s measurement and table, against a local HTTP server instead of the stack."""

from __future__ import annotations

import http.client
import http.server
import threading
import time
import urllib.error

import pytest

from benchmarks import scale
from benchmarks.report import scale_markdown, unanswered_text


class FakeRedis:
    def hgetall(self, key: str) -> dict:
        return {}


class FakeStack:
    """What measure_sequential needs of a stack: the counters' Redis (empty here)."""

    def redis(self) -> FakeRedis:
        return FakeRedis()


class CourseListHandler(http.server.BaseHTTPRequestHandler):
    """/ok answers at once, /error with a 500, /slow after a second."""

    def do_GET(self) -> None:
        if self.path == "/slow":
            time.sleep(1)
        status = 500 if self.path == "/error" else 200
        body = b'{"results": []}'
        try:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the runner gave up waiting and closed the connection

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def course_list_server(monkeypatch):
    monkeypatch.setattr(scale, "COUNTERS_FLUSH_WAIT_SECONDS", 0)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), CourseListHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_server_error_ends_the_scale_measurement_instead_of_the_run(course_list_server):
    measurement = scale.measure_sequential(
        FakeStack(), url=course_list_server, paths=["/ok", "/error"], token="token", count=5
    )

    assert measurement["requests"] == 5
    assert measurement["answered"] == 1
    assert measurement["p50_ms"] is measurement["average_ms"] is measurement["read_capacity_per_request"] is None
    assert measurement["unanswered"]["error"] == "HTTP 500"
    assert measurement["unanswered"]["over_seconds"] is None  # answered before any limit: a failure, said as such
    assert unanswered_text(measurement).startswith("failed after 0 s (HTTP 500)")


def test_a_request_over_the_runners_limit_is_reported_as_over_that_limit(course_list_server, monkeypatch):
    monkeypatch.setattr(scale, "REQUEST_LIMIT_SECONDS", 0.2)

    measurement = scale.measure_sequential(FakeStack(), url=course_list_server, paths=["/slow"], token="t", count=3)

    assert measurement["answered"] == 0
    assert measurement["unanswered"]["error"] == "timed out"
    assert unanswered_text(measurement) == "over 0.2 s"


def test_every_answered_request_keeps_the_scale_figures_as_they_were(course_list_server):
    measurement = scale.measure_sequential(FakeStack(), url=course_list_server, paths=["/ok"], token="t", count=3)

    assert set(measurement) == {"requests", "average_ms", "p50_ms", "p99_ms", "read_capacity_per_request"}
    assert measurement["requests"] == 3
    assert unanswered_text(measurement) is None


def test_a_request_the_server_dropped_at_its_own_timeout_is_over_that_timeout():
    killed = http.client.RemoteDisconnected("Remote end closed connection without response")
    server_error = urllib.error.HTTPError("http://127.0.0.1/baseline/api/courses", 500, "error", {}, None)

    assert scale.unanswered(killed, 360.3, server_timeout_seconds=360).over_seconds == 360
    assert scale.unanswered(server_error, 359.5, server_timeout_seconds=360).over_seconds == 360
    failure = scale.unanswered(killed, 30.1, server_timeout_seconds=None)
    assert failure.over_seconds is None
    assert failure.error == "RemoteDisconnected: Remote end closed connection without response"
    connect_timeout = urllib.error.URLError(TimeoutError("timed out"))
    assert (
        scale.unanswered(connect_timeout, 300.0, server_timeout_seconds=360).over_seconds == scale.REQUEST_LIMIT_SECONDS
    )


def scale_measurement(p50: float, read_capacity: float) -> dict:
    return {
        "requests": 5,
        "average_ms": p50 + 1,
        "p50_ms": p50,
        "p99_ms": p50 + 5,
        "read_capacity_per_request": read_capacity,
    }


def test_the_scale_table_says_over_n_s_where_the_baseline_ran_out_of_time_and_that_it_is_one_run():
    over = {
        "requests": 5,
        "answered": 0,
        "average_ms": None,
        "p50_ms": None,
        "p99_ms": None,
        "read_capacity_per_request": None,
        "unanswered": {"error": "timed out", "after_seconds": 300.0, "over_seconds": 300},
    }
    results = {
        "finished_at": "2026-12-02T10:00:00+00:00",
        "machine": "2 cores",
        "rows": [
            {
                "courses": 10_000,
                "seed_seconds": 17,
                "cached": scale_measurement(2, 0.5),
                "uncached": scale_measurement(7.5, 1.0),
                "baseline": scale_measurement(347, 425),
            },
            {
                "courses": 100_000,
                "seed_seconds": 79,
                "cached": scale_measurement(2.3, 0.5),
                "uncached": scale_measurement(8.9, 1.0),
                "baseline": over,
            },
        ],
    }

    markdown = scale_markdown(results)

    assert "one run" in markdown.splitlines()[0]
    assert "| 10,000 | 17 s | 2.0 ms | 3.0 ms | 7.5 ms | 8.5 ms | 347 ms | 348 ms | 425 | 1.0 |" in markdown
    assert "| 100,000 | 79 s | 2.3 ms | 3.3 ms | 8.9 ms | 9.9 ms | over 300 s | over 300 s | n/a | 1.0 |" in markdown
