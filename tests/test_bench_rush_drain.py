"""The rush's steady-state browses after the burst's last refusal, reported apart (benchmarks/rush.py)."""

from __future__ import annotations

from typing import Any

from benchmarks.rush import rush_phases
from benchmarks.rush_report import rush_phase_lines

OPENS_AT = 1_000.0
ENROLL, BROWSE = "POST POST /enrollments (rush)", "GET GET /courses?semester_id"


def sent(at: float, name: str, ms: float, status: int = 200, code: str | None = None) -> dict[str, Any]:
    return {"at": at, "name": name, "ms": ms, "status": status, "code": code}


def refused(at: float) -> dict[str, Any]:
    return sent(at, ENROLL, 2, 429, "writes_busy")


def test_the_steady_states_browses_after_the_last_refusal_are_reported_apart():
    requests = [
        refused(1_002.0),
        sent(1_011.0, BROWSE, 300),  # in the steady state, while the burst's writes are still refused
        refused(1_014.5),
        sent(1_015.0, ENROLL, 40, 201),
        sent(1_016.0, BROWSE, 5),
        sent(1_020.0, BROWSE, 7),
        sent(1_021.0, "GET GET /enrollments/me (rush)", 90),  # an enroller's own read, not browsing
    ]

    phases = rush_phases(requests, opens_at=OPENS_AT)

    after = phases["steady"]["after_refusals"]
    assert after["refused_until_seconds"] == 14.5
    assert (after["requests"], after["p50_ms"], after["p99_ms"]) == (2, 5, 7)
    assert phases["steady"]["browse"]["p99_ms"] == 300
    text = "\n".join(
        rush_phase_lines({**phases, "opens_at": "2026-12-04T12:00:00+00:00", "seat_check": {"oversold": 0}})
    )
    assert (
        "The last enroll refused busy was sent 14.5 s after the opening; the steady state's browses after it "
        "(and after the first 10 s): p50 / p99 5.0 ms / 7.0 ms (2 requests)."
    ) in text


def test_refusals_over_within_the_first_seconds_leave_the_whole_steady_state():
    phases = rush_phases([refused(1_001.0), sent(1_009.0, BROWSE, 50), sent(1_012.0, BROWSE, 8)], opens_at=OPENS_AT)

    after = phases["steady"]["after_refusals"]
    assert after["refused_until_seconds"] == 1.0
    assert (after["requests"], after["p99_ms"]) == (1, 8)
