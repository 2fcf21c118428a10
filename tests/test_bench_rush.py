"""The registration rush's figures without running it: phases, percentiles, server snapshots, table."""

from __future__ import annotations

import os
import time
from typing import Any

import pytest

from benchmarks import rush_snapshots
from benchmarks.rush import browse_from_opening, rush_phases
from benchmarks.rush_probe import PROBE
from benchmarks.rush_report import rush_lines, rush_phase_lines
from benchmarks.rush_snapshots import PhaseSnapshots, phase_server_windows
from benchmarks.server_figures import Snapshot, cpu_by_process


def test_the_rush_reports_its_first_seconds_after_the_opening_apart_from_the_rest():
    opens_at = 1_000.0
    enroll, browse = "POST POST /enrollments (rush)", "GET GET /courses?semester_id"
    requests = [
        {"at": 999.0, "name": "POST POST /api/auth/login", "ms": 50, "status": 200, "code": None},
        {"at": 1_000.0, "name": enroll, "ms": 40, "status": 201, "code": None},
        {"at": 1_000.1, "name": enroll, "ms": 2, "status": 429, "code": "writes_busy", "first_at": 1_000.1},
        {"at": 1_000.2, "name": enroll, "ms": 80, "status": 409, "code": "course_full"},
        # The refused enroll, sent again after its Retry-After: answered 1,060 ms after its first click.
        {"at": 1_001.1, "name": enroll, "ms": 60, "status": 201, "code": None, "first_at": 1_000.1},
        {"at": 1_003.0, "name": PROBE, "ms": 15, "status": 200, "niceness": -10},
        {"at": 1_005.0, "name": browse, "ms": 9, "status": 200, "code": None},
        {"at": 1_009.9, "name": browse, "ms": 30, "status": 502, "code": None},
        {"at": 1_010.0, "name": enroll, "ms": 12, "status": 409, "code": "time_conflict"},
        {"at": 1_015.0, "name": PROBE, "ms": 25, "status": 200, "niceness": -10},
        {"at": 1_020.0, "name": browse, "ms": 4, "status": 200, "code": None},
        {"at": 1_021.0, "name": "GET GET /enrollments/me (rush)", "ms": 7, "status": 200, "code": None},
    ]

    phases = rush_phases(requests, opens_at=opens_at)

    to_answer = phases["opening"].pop("enroll_to_answer")
    assert to_answer["requests"] == 3
    assert (to_answer["p50_ms"], to_answer["p99_ms"]) == (80, pytest.approx(1_060))
    assert phases["opening"] == {
        "seconds": 10.0,
        "enroll": {"requests": 3, "average_ms": 60.0, "p50_ms": 60, "p95_ms": 80, "p99_ms": 80},
        "enrolls_refused": 1,
        "browse": {
            "requests": 2,
            "average_ms": 19.5,
            "p50_ms": 9,
            "p95_ms": 30,
            "p99_ms": 30,
            "requests_per_second": 0.2,
        },
        # The probe's reads are its own figure, not browsing's.
        "probe": {"requests": 1, "average_ms": 15.0, "p50_ms": 15, "p95_ms": 15, "p99_ms": 15, "niceness": -10},
        "server_errors": 1,
        "connection_errors": 0,
    }
    # The steady state runs to the last request logged: 1,010 to 1,021.
    assert phases["steady"]["seconds"] == 11.0
    assert phases["steady"]["enroll"] == {"requests": 1, "average_ms": 12.0, "p50_ms": 12, "p95_ms": 12, "p99_ms": 12}
    assert phases["steady"]["browse"]["requests"] == 1
    assert phases["steady"]["browse"]["p99_ms"] == 4
    assert phases["steady"]["probe"]["p99_ms"] == 25
    assert phases["steady"]["server_errors"] == 0
    assert phases["enroll_answers"] == {"201": 2, "409 course_full": 1, "409 time_conflict": 1, "429 writes_busy": 1}
    assert phases["enrolls_before_opening"] == 0
    phases["opening"]["enroll_to_answer"] = to_answer
    rush = {**phases, "opens_at": "2026-12-01T12:00:00+00:00", "seat_check": {"oversold": 0}}
    rush["steady"]["server"] = {"cache_hit_rate": 0.9875, "counted_from_seconds": 11.6}
    lines = "\n".join(rush_phase_lines(rush))
    assert (
        "| first 10 s | 3 | 60.0 ms | 80.0 ms | 80.0 ms | 1,060 ms | 1 | 2 | 0.2 | 9.0 ms | 30.0 ms | n/a | 1 |"
        in lines
    )
    assert (
        "| steady state (10-21 s) | 1 | 12.0 ms | 12.0 ms | 12.0 ms | 12.0 ms | 0 | 1 | 0.1 | 4.0 ms | 4.0 ms "
        "| 98.75% | 0 |"
    ) in lines
    assert "The steady state's server counters start 11.6 s after the opening." in lines
    assert (
        "Enroll answers: 201: 2, 409 course_full: 1, 409 time_conflict: 1, 429 writes_busy: 1; "
        "0 sent before the opening"
    ) in lines


def test_the_rush_browse_percentiles_are_over_every_request_not_a_mean_of_each_endpoints():
    """A slow endpoint's tail is the rush's tail: 90 list reads of 2 ms and 10 detail reads of 500 to
    950 ms have a p99 of 900 ms, where a request-weighted mean of the two endpoints' own p99s (2 and
    950 ms) would say 96.8 ms."""
    opens_at = 1_000.0
    requests = [
        {"at": opens_at + 1 + number * 0.1, "name": "GET GET /courses?semester_id", "ms": 2, "status": 200}
        for number in range(90)
    ] + [
        {"at": opens_at + 20 + number, "name": "GET GET /courses/{id}", "ms": 500 + 50 * number, "status": 200}
        for number in range(10)
    ]
    requests.append({"at": opens_at - 5, "name": "GET GET /courses/{id}", "ms": 9_999, "status": 200})

    browse = browse_from_opening(requests, opens_at=opens_at)

    assert browse["requests"] == 100  # the one before the opening is not the rush's
    assert browse["p50_ms"] == 2
    assert browse["p95_ms"] == 700
    assert browse["p99_ms"] == 900
    assert browse["requests_per_second"] == pytest.approx(100 / 29)


def rush_snapshot(
    at: float,
    *,
    requests: float = 0,
    lookups: dict[str, tuple[int, int]] | None = None,
    web: float = 0.0,
    dynamodb: float = 0.0,
    workers: float = 0.0,
    machine: float = 0.0,
) -> Snapshot:
    """A snapshot of the server's counters and the CPU clocks, as benchmarks.server_figures takes one."""
    return Snapshot(
        at=at,
        counters={"requests": requests},
        lookups=lookups or {},
        server_cpu=web,
        dynamodb_cpu=dynamodb,
        worker_cpu=workers,
        machine_cpu=machine,
    )


def test_each_rush_phase_gets_the_cache_hit_rate_of_its_own_window_without_the_token_check():
    opening = rush_snapshot(0, requests=100, lookups={"course_list": (50, 50), "user_auth": (100, 0)})
    steady = rush_snapshot(10, requests=300, lookups={"course_list": (100, 100), "user_auth": (300, 0)})
    after = rush_snapshot(60, requests=1_300, lookups={"course_list": (1_090, 110), "user_auth": (1_300, 1)})

    windows = phase_server_windows(
        ["opening", "steady"],
        {"opening": opening, "steady": steady},
        after=after,
        counted_from={"opening": 1.5, "steady": 11.6},
    )

    assert windows["opening"]["cache_hit_rate"] == 0.5
    assert windows["opening"]["server_requests"] == 200
    assert windows["steady"]["cache_hit_rate"] == 0.99
    assert windows["steady"]["cache_hit_rate_by_family"] == {"course_list": 0.99, "user_auth": 0.999}
    assert windows["steady"]["counted_from_seconds"] == 11.6


def test_a_window_s_cpu_is_split_between_the_web_server_dynamodb_local_the_workers_and_the_rest():
    cores = os.cpu_count() or 1
    before = rush_snapshot(100.0, web=50.0, dynamodb=20.0, workers=5.0, machine=500.0)
    # Ten seconds: 9 s of the web server's CPU, 6 of DynamoDB Local's, 2 of the workers', 1.5 of the rest.
    after = rush_snapshot(110.0, web=59.0, dynamodb=26.0, workers=7.0, machine=518.5)

    assert cpu_by_process(before, after) == {
        "web": 90.0,
        "dynamodb_local": 60.0,
        "workers": 20.0,
        "everything_else": 15.0,
        "idle": round(100 * cores - 185.0, 1) if cores > 1 else 0.0,
    }


def test_each_rush_phase_gets_the_cpu_of_its_own_window():
    opening = rush_snapshot(0.0, web=0.0, dynamodb=0.0, workers=0.0, machine=0.0)
    steady = rush_snapshot(10.0, web=10.0, dynamodb=8.0, workers=2.0, machine=21.0)
    after = rush_snapshot(60.0, web=35.0, dynamodb=13.0, workers=4.0, machine=55.0)

    windows = phase_server_windows(
        ["opening", "steady"],
        {"opening": opening, "steady": steady},
        after=after,
        counted_from={"opening": 1.5, "steady": 11.6},
    )

    assert windows["opening"]["cpu_percent_by_process"]["dynamodb_local"] == 80.0
    assert windows["opening"]["cpu_percent_by_process"]["everything_else"] == 10.0
    assert windows["steady"]["cpu_percent_by_process"]["web"] == 50.0
    assert windows["steady"]["cpu_percent_by_process"]["dynamodb_local"] == 10.0


def test_a_rush_phase_whose_next_snapshot_is_missing_gets_no_server_figures():
    opening = rush_snapshot(0, requests=100, lookups={"course_list": (50, 50)})
    after = rush_snapshot(60, requests=1_300, lookups={"course_list": (1_090, 110)})

    windows = phase_server_windows(
        ["opening", "steady"], {"opening": opening}, after=after, counted_from={"opening": 1.5}
    )

    assert windows == {}  # the opening's figures would have run on into the steady state


def rush_run(phases: dict[str, Any], **figures: Any) -> dict[str, Any]:
    """A rush's entry in bench.json around `phases`: 300 students into 20 courses, all filled, none
    oversold, unless `figures` say otherwise."""
    return {
        **phases,
        "enrollers": 300,
        "browsers": 200,
        "seconds": 60,
        "popular_courses": 20,
        "free_seats_before": 356,
        "opens_at": "2026-12-01T12:00:00+00:00",
        "enroll_requests": 1500,
        "enrolls_refused": 4200,
        "all_failures": 0,
        "exceptions": 0,
        "seat_check": {"oversold": 0, "counter_mismatches": 0, "full": 20},
        **figures,
    }


def test_the_rush_table_states_its_one_run_and_its_seat_check():
    phases = rush_phases(
        [{"at": 1_000.0, "name": "POST POST /enrollments (rush)", "ms": 40, "status": 201, "code": None}],
        opens_at=1_000.0,
    )
    text = "\n".join(rush_lines(rush_run(phases)))

    assert "Registration rush, one run: 300 students enroll into 20 popular courses" in text
    assert "| 1500 | 4200 | 0 | 20/20 | 0 | yes |" in text
    assert "steady state (one run)" in text
    assert "approximation" not in text
    assert "Where the cores went" not in text  # a run from before the phases' CPU was measured
    assert "outside locust" not in text  # nor the probe's reads


def test_the_rush_table_says_where_the_cores_went_and_what_an_answered_enroll_cost_beyond_the_web():
    phases = rush_phases(
        [
            {"at": 1_000.0 + number * 0.25, "name": "POST POST /enrollments (rush)", "ms": 40, "status": 201}
            for number in range(60)
        ],
        opens_at=1_000.0,
    )
    for phase, cpu in (("opening", (95.0, 70.0, 30.0, 5.0)), ("steady", (60.0, 40.0, 10.0, 80.0))):
        web, dynamodb, workers, idle = cpu
        phases[phase]["server"] = {
            "cpu_percent_by_process": {
                "web": web,
                "dynamodb_local": dynamodb,
                "workers": workers,
                "everything_else": 200 - idle - web - dynamodb - workers,
                "idle": idle,
            }
        }
    text = "\n".join(rush_lines(rush_run(phases, enroll_requests=60)))

    # 40 enrolls answered in the first 10 s, 4 a second: 70% of a core is 700 ms a second, 175 ms each.
    assert "| first 10 s | 95% | 70% | 30% | 0% | 5% | 4.0 | 175 ms | 75.0 ms |" in text
    # 20 in the last 4.75 s: 40% of a core over 4.2 a second.
    assert "| 40% | 10% | 10% | 80% | 4.2 | 95.0 ms | 23.8 ms |" in text


def test_the_rush_snapshots_the_server_at_the_opening_and_at_the_steady_states_start(monkeypatch):
    monkeypatch.setattr(rush_snapshots, "OPENING_SECONDS", 0.3)
    taken_at: list[float] = []

    def fake_snapshot(stack, server, *, cache_enabled: bool) -> Snapshot:
        taken_at.append(time.time())
        hits = 10 * len(taken_at)
        return rush_snapshot(time.monotonic(), requests=hits, lookups={"course_list": (hits, 1)})

    monkeypatch.setattr(rush_snapshots, "snapshot", fake_snapshot)
    opens_at = time.time() + 0.2

    snapshots = PhaseSnapshots(stack=None, server=None, opens_at=opens_at, run_seconds=60)
    time.sleep(0.8)  # locust runs
    snapshots.stop()
    windows = snapshots.server_windows(rush_snapshot(time.monotonic(), requests=100, lookups={"course_list": (100, 2)}))

    assert len(taken_at) == 2
    assert taken_at[0] >= opens_at
    assert taken_at[1] >= opens_at + 0.3
    assert windows["opening"]["cache_hit_rate"] == 1.0  # 10 more hits, no more misses
    assert windows["steady"]["cache_hit_rate"] == 80 / 81


def test_a_rush_that_ends_before_its_steady_state_takes_no_more_snapshots(monkeypatch):
    taken: list[str] = []
    monkeypatch.setattr(rush_snapshots, "snapshot", lambda stack, server, cache_enabled: taken.append("snapshot"))

    snapshots = PhaseSnapshots(stack=None, server=None, opens_at=time.time() + 30, run_seconds=60)
    started = time.monotonic()
    snapshots.stop()

    assert time.monotonic() - started < 5  # no waiting for an opening that will not come
    assert taken == []
    assert snapshots.server_windows(rush_snapshot(0, requests=0, lookups={})) == {}
