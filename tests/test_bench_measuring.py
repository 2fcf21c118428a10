"""How the rush is measured beside locust: the machine's CPU clock, and the probe that browses from
outside locust (benchmarks/rush_probe.py) against a real HTTP server."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from benchmarks.rush import rush_phases
from benchmarks.rush_probe import PROBE, probe, probe_process
from benchmarks.rush_report import rush_phase_lines
from benchmarks.server_figures import machine_cpu_seconds


def test_the_machine_s_busy_cpu_counts_every_process_s_work():
    started = machine_cpu_seconds()
    deadline = time.thread_time() + 0.3
    while time.thread_time() < deadline:
        pass

    # This thread's 0.3 s at least (the clock ticks in hundredths), and whatever else ran meanwhile.
    assert machine_cpu_seconds() - started >= 0.25


class CourseListServer(ThreadingHTTPServer):
    """Answers every GET 200 with an empty page, keeping the connection open, and remembers what it
    was sent: each request's path and Authorization header, and the connections it accepted."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str | None]] = []
        self.connections = 0
        super().__init__(("127.0.0.1", 0), CourseListHandler)


class CourseListHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    server: CourseListServer

    def setup(self) -> None:
        super().setup()
        self.server.connections += 1

    def do_GET(self) -> None:
        self.server.requests.append((self.path, self.headers.get("Authorization")))
        body = b'{"results": []}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def course_list_server() -> Iterator[CourseListServer]:
    server = CourseListServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_the_probe_reads_the_course_list_over_one_kept_alive_connection_and_logs_each_read(
    course_list_server: CourseListServer, tmp_path: Path
):
    url = f"http://127.0.0.1:{course_list_server.server_address[1]}"
    log_path = tmp_path / "rush-requests.probe.jsonl"

    started = time.monotonic()
    probe(url, "token-1", 20261, log_path, niceness=0, requests=3)

    assert course_list_server.requests == [("/api/courses?semester_id=20261", "Bearer token-1")] * 3
    assert course_list_server.connections == 1
    rows = [json.loads(line) for line in log_path.read_text().splitlines()]
    assert [(row["name"], row["status"]) for row in rows] == [(PROBE, 200)] * 3
    assert all(0 < row["ms"] < 1_000 for row in rows)
    assert {row["niceness"] for row in rows} == {0}
    # One read every 100 ms: the third starts 0.2 s after the first.
    assert rows[2]["at"] - rows[0]["at"] == pytest.approx(0.2, abs=0.05)
    assert time.monotonic() - started >= 0.3


def test_the_probe_runs_as_a_service_of_its_own_until_the_stack_stops_it(
    course_list_server: CourseListServer, tmp_path: Path
):
    url = f"http://127.0.0.1:{course_list_server.server_address[1]}"
    log_path = tmp_path / "rush-requests.probe.jsonl"
    process = probe_process(
        url=url, token="token-2", semester_id=20262, log_path=log_path, output_path=tmp_path / "probe.log"
    ).start()
    deadline = time.monotonic() + 20
    # The log, not the server: the probe writes a read's line once its answer is in.
    while (not log_path.exists() or len(log_path.read_text().splitlines()) < 5) and time.monotonic() < deadline:
        time.sleep(0.05)

    process.stop()

    assert not process.is_running()
    rows = [json.loads(line) for line in log_path.read_text().splitlines()]
    logged = len(rows)
    assert logged >= 5
    # Its own process raised its priority if it could, and says at which niceness it ran.
    assert isinstance(rows[0]["niceness"], int) and rows[0]["niceness"] <= os.getpriority(os.PRIO_PROCESS, 0)
    time.sleep(0.3)
    assert len(log_path.read_text().splitlines()) == logged  # nothing after it was stopped
    # The token reached the server from the probe's environment, not from its command line.
    assert course_list_server.requests[0] == ("/api/courses?semester_id=20262", "Bearer token-2")
    assert not any("token-2" in argument for argument in process.argv)


def test_the_rush_report_gives_the_probe_s_latencies_beside_locust_s():
    phases = rush_phases(
        [
            {"at": 1_003.0, "name": PROBE, "ms": 15, "status": 200, "niceness": -10},
            {"at": 1_005.0, "name": "GET GET /courses?semester_id", "ms": 900, "status": 200},
            {"at": 1_015.0, "name": PROBE, "ms": 25, "status": 200, "niceness": -10},
            {"at": 1_021.0, "name": "GET GET /courses/{id}", "ms": 4, "status": 200},
        ],
        opens_at=1_000.0,
    )
    rush = {**phases, "opens_at": "2026-12-01T12:00:00+00:00", "seat_check": {"oversold": 0}}

    lines = "\n".join(rush_phase_lines(rush))

    assert (
        "Browse p50 / p99 from outside locust (benchmarks/rush_probe.py: the semester's first course list every "
        "100 ms over one kept-alive connection, from a process of its own at niceness -10): first 10 s 15.0 ms / "
        "15.0 ms (1 requests); steady state (10-21 s) 25.0 ms / 25.0 ms (1 requests)."
    ) in lines
    # locust's browsing leaves the probe's reads out: one read of 900 ms in the first 10 s.
    assert "| 0 | 1 | 0.1 | 900 ms | 900 ms |" in lines
