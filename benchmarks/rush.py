"""`make bench`'s registration rush: students wait for a semester's registration to open and enroll
into its popular courses at that instant, while others browse. The runner moves the semester's
opening (through the admin API, as a registrar would) to a few seconds after the last simulated user
will have spawned; the enrollers read it and sleep until then (locustfiles/rush.py).

Reported: the first OPENING_SECONDS after the opening on their own (enroll and browse p50/p99 over
every request, server errors, the server's cache hit rate), next to the steady state that follows;
the answers enrolls got; and the seat check. Every latency is a percentile over all the requests
locustfiles/rush.py wrote down, not locust's per-endpoint figures.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.api_client import get_json, patch_json, sign_in
from benchmarks.locust_runner import LocustRun, run_locust
from benchmarks.rush_probe import is_probe, probe_process
from benchmarks.rush_snapshots import OPENING_SECONDS, PhaseSnapshots
from benchmarks.server_figures import server_figures
from benchmarks.stack import BenchStack, base_url
from benchmarks.stats import percentile
from devstack.services import ROOT, VENV_BIN

# Locust's own start (imports, the first spawns) and a margin after the last spawn, before the opening.
LOCUST_START_SECONDS = 5
MARGIN_SECONDS = 3
ENROLL = "POST POST /enrollments (rush)"
DROP = "DELETE DELETE /enrollments/{id} (rush)"


def measure_rush(stack: BenchStack) -> dict[str, Any]:
    """Registration opens: enrollers into the popular courses while others browse, on a warmed cache."""
    integer = stack.variables.integer
    rush_users, browsers = integer("BENCH_RUSH_USERS"), integer("BENCH_RUSH_BROWSERS")
    seconds, students = integer("BENCH_RUSH_SECONDS"), integer("BENCH_STUDENTS")
    spawn_rate = max(1, integer("BENCH_RUSH_SPAWN_RATE"))
    if students < rush_users + browsers:
        raise SystemExit(
            f"The rush needs BENCH_STUDENTS >= BENCH_RUSH_USERS + BENCH_RUSH_BROWSERS ({rush_users + browsers})"
        )
    stack.flush_cache()
    print(f"rush: {stack.warm_cache()}", flush=True)
    server = stack.server(name="rush", cache_enabled=True)
    request_log = stack.output_dir / "rush-requests"
    for old in request_log.parent.glob(request_log.name + ".*.jsonl"):
        old.unlink()
    try:
        url = base_url(server)
        token = sign_in(url, f"student{students}@demo.edu")
        semester = stack.variables.semester_ids()[0]
        candidates = get_json(f"{url}/api/courses?semester_id={semester}&limit=100", token)["results"]
        # The smallest courses without prerequisites fill up: the seat condition is exercised, not just present.
        candidates = [course for course in candidates if not course["prerequisites"]]
        candidates.sort(key=lambda course: (course["seats_available"], course["course_id"]))
        popular = [course["course_id"] for course in candidates[: integer("BENCH_RUSH_COURSES")]]
        seats = sum(course["seats_available"] for course in candidates[: len(popular)])
        spawn_seconds = math.ceil((rush_users + browsers) / spawn_rate)
        lead_seconds = LOCUST_START_SECONDS + spawn_seconds + MARGIN_SECONDS
        opens_at = open_registration_later(url, semester, seconds_from_now=lead_seconds)
        print(
            f"rush: {rush_users} students enroll into {len(popular)} courses ({seats} free seats) when "
            f"registration opens at {opens_at.isoformat(timespec='seconds')} ({lead_seconds} s from now), "
            f"while {browsers} browse; then {seconds} s ...",
            flush=True,
        )
        phase_snapshots = PhaseSnapshots(stack, server, opens_at=opens_at.timestamp(), run_seconds=seconds)
        probe_log = request_log.with_suffix(".probe.jsonl")  # read with locust's files
        probe = stack.start_service(
            probe_process(
                url=url,
                token=token,
                semester_id=semester,
                log_path=probe_log,
                output_path=stack.log_dir / "rush-probe.log",
            )
        )
        try:
            rows, before, after = run_locust(
                stack,
                server,
                name="rush",
                run=LocustRun(
                    locustfile="rush.py",
                    user_classes=["RushStudent", "StudentUser"],
                    users=rush_users + browsers,
                    spawn_rate=spawn_rate,
                    seconds=lead_seconds + seconds,
                    reset_after_spawn=False,
                    cache_enabled=True,
                    env={
                        **stack.dataset_env(),
                        "BENCH_RUSH_USERS": str(rush_users),
                        "BENCH_RUSH_COURSES": ",".join(popular),
                        "BENCH_RUSH_SEMESTER": str(semester),
                        "BENCH_RUSH_LOG": str(request_log),
                        "BENCH_BROWSER_FIRST_STUDENT": str(rush_users + 1),
                        # The rush is measured from its first request: no warm-up reset of the statistics.
                        "BENCH_WARMUP": "",
                    },
                ),
            )
        finally:
            stack.stop_service(probe)
            phase_snapshots.stop()
    finally:
        stack.stop_service(server)
    seat_check = seat_check_of(stack, popular)
    enroll_row = rows.get(ENROLL, {"requests": 0, "failures": 0})
    figures = server_figures(before, after, cache_enabled=True)
    requests = read_request_log(request_log)
    phases = rush_phases(requests, opens_at=opens_at.timestamp())
    for phase, server_window in phase_snapshots.server_windows(after).items():
        phases[phase]["server"] = server_window
    opening, steady = phases["opening"], phases["steady"]
    print(
        f"  first {OPENING_SECONDS} s: {phase_summary(opening)}; steady state: {phase_summary(steady)}; "
        f"oversold courses: {seat_check['oversold']}, counter mismatches: {seat_check['counter_mismatches']}, "
        f"full: {seat_check['full']}/{len(popular)}; waitlists: {seat_check['promotions']} promotions, "
        f"lag p99 {seat_check['promotion_lag_p99_ms']} ms, {seat_check['out_of_order']} out of order",
        flush=True,
    )
    return {
        "enrollers": rush_users,
        "browsers": browsers,
        "seconds": seconds,
        "opens_at": opens_at.isoformat(timespec="seconds"),
        "popular_courses": len(popular),
        "free_seats_before": seats,
        # Every browse request from the opening to the end, both phases together.
        "browse": browse_from_opening(requests, opens_at=opens_at.timestamp()),
        # Answered enrolls; the refused attempts (writes_busy), sent again after Retry-After, apart.
        "enroll_requests": sum(1 for request in requests if is_answered_enroll(request)),
        "enrolls_refused": sum(1 for request in requests if request["name"] == ENROLL and is_refusal(request)),
        "drop_requests": rows.get(DROP, {"requests": 0})["requests"],
        "enroll_failures": enroll_row["failures"],
        "all_failures": rows["Aggregated"]["failures"],
        "exceptions": rows["Aggregated"]["exceptions"],
        # The whole locust run, the users' spawning and sign-ins before the opening included;
        # each phase's own rate is in opening.server and steady.server.
        "cache_hit_rate": figures["cache_hit_rate"],
        "server_cpu_percent": figures["server_cpu_percent"],
        "seat_check": seat_check,
        **phases,
        "endpoints": rows,
    }


def open_registration_later(url: str, semester_id: int, *, seconds_from_now: float) -> datetime:
    """Move the semester's opening to `seconds_from_now`, whole seconds, as the demo admin."""
    opens_at = datetime.fromtimestamp(math.ceil(time.time() + seconds_from_now), tz=UTC)
    admin_token = sign_in(url, "admin@demo.edu")
    semester = patch_json(
        f"{url}/api/semesters/{semester_id}",
        admin_token,
        {"registration_opens_at": opens_at.isoformat().replace("+00:00", "Z")},
    )
    return datetime.fromisoformat(semester["registration_opens_at"].replace("Z", "+00:00"))


def read_request_log(prefix: Path) -> list[dict[str, Any]]:
    """Every request locustfiles/rush.py wrote down, from each locust process's file."""
    requests: list[dict[str, Any]] = []
    for path in sorted(prefix.parent.glob(prefix.name + ".*.jsonl")):
        requests += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return requests


def is_browse(request: dict[str, Any]) -> bool:
    """A browsing student's read (StudentUser's GETs), not an enroller's own reads nor the probe's."""
    return request["name"].startswith("GET ") and "(rush)" not in request["name"] and not is_probe(request)


def is_refusal(request: dict[str, Any]) -> bool:
    """A write the server's process refused, all its write slots taken (429 writes_busy): the
    locustfile sends it again after Retry-After."""
    return request["status"] == 429 and request.get("code") == "writes_busy"


def is_answered_enroll(request: dict[str, Any]) -> bool:
    return request["name"] == ENROLL and not is_refusal(request)


def to_answer_ms(request: dict[str, Any]) -> float:
    """From the first click (the first attempt) to this answer, refusals and their waits included."""
    return (request["at"] - request.get("first_at", request["at"])) * 1000 + request["ms"]


def latencies(requests: list[dict[str, Any]], *, timing: Any = None) -> dict[str, Any]:
    """Nearest-rank percentiles over every one of `requests`: exact, where locust's are per endpoint.
    `timing` gives a request's milliseconds (its own duration by default)."""
    times = [timing(request) if timing else request["ms"] for request in requests]
    return {
        "requests": len(times),
        "average_ms": sum(times) / len(times) if times else 0.0,
        "p50_ms": percentile(times, 0.50),
        "p95_ms": percentile(times, 0.95),
        "p99_ms": percentile(times, 0.99),
    }


def browse_from_opening(requests: list[dict[str, Any]], *, opens_at: float) -> dict[str, Any]:
    """Every browse request from the opening to the last request, both phases together."""
    browsing = [request for request in requests if request["at"] >= opens_at and is_browse(request)]
    seconds = max((request["at"] for request in requests), default=opens_at) - opens_at
    return {**latencies(browsing), "requests_per_second": len(browsing) / seconds if seconds > 0 else 0.0}


def rush_phases(requests: list[dict[str, Any]], *, opens_at: float) -> dict[str, Any]:
    """Enroll and browse latency in the first OPENING_SECONDS after the opening and after them (to
    the last request logged), the server errors (5xx) of each phase, and what the enrolls were
    answered (status, or the 409's or 429's code). A request belongs to the phase it started in;
    an enroll's time to an answer, to the phase of its first click. Enroll latencies are those of
    the answered attempts; refusals (writes_busy) are counted apart."""
    phases: dict[str, Any] = {"opening_seconds": OPENING_SECONDS}
    last_start = max((request["at"] for request in requests), default=opens_at)
    bounds = {"opening": (opens_at, opens_at + OPENING_SECONDS), "steady": (opens_at + OPENING_SECONDS, math.inf)}
    for phase, (start, end) in bounds.items():
        during = [request for request in requests if start <= request["at"] < end]
        browsing = [request for request in during if is_browse(request)]
        probed = [request for request in during if is_probe(request)]
        seconds = max(0.0, min(end, last_start) - start)
        clicked = [
            request
            for request in requests
            if is_answered_enroll(request) and start <= request.get("first_at", request["at"]) < end
        ]
        phases[phase] = {
            "seconds": round(seconds, 3),
            "enroll": latencies([request for request in during if is_answered_enroll(request)]),
            "enroll_to_answer": latencies(clicked, timing=to_answer_ms),
            "enrolls_refused": sum(1 for request in during if request["name"] == ENROLL and is_refusal(request)),
            "browse": {
                **latencies(browsing),
                "requests_per_second": len(browsing) / seconds if seconds > 0 else 0.0,
            },
            # The same reads from outside locust (benchmarks/rush_probe.py), at its niceness.
            "probe": {
                **latencies(probed),
                "niceness": next((request.get("niceness") for request in probed), None),
            },
            "server_errors": sum(1 for request in during if request["status"] >= 500),
            "connection_errors": sum(1 for request in during if not request["status"]),
        }
    # The burst's writes were admitted by the last refusal; the steady state's browses after it, apart.
    refused_until = max((r["at"] for r in requests if r["name"] == ENROLL and is_refusal(r)), default=opens_at)
    after_refusals = max(refused_until, bounds["steady"][0])
    phases["steady"]["after_refusals"] = {
        **latencies([request for request in requests if request["at"] >= after_refusals and is_browse(request)]),
        "refused_until_seconds": round(refused_until - opens_at, 1),
    }
    enroll_answers = Counter(
        f"{request['status']} {request['code']}" if request["status"] in (409, 429) else str(request["status"])
        for request in requests
        if request["name"] == ENROLL
    )
    phases["enroll_answers"] = dict(sorted(enroll_answers.items()))
    phases["enrolls_before_opening"] = sum(
        1 for request in requests if is_answered_enroll(request) and request["at"] < opens_at
    )
    return phases


def phase_summary(phase: dict[str, Any]) -> str:
    """One phase on the console: enroll and browse p50/p99, the cache hit rate, 5xx."""
    enroll, browse = phase["enroll"], phase["browse"]
    to_answer = phase.get("enroll_to_answer") or enroll
    hit_rate = (phase.get("server") or {}).get("cache_hit_rate")
    return (
        f"enroll p50/p99 {enroll['p50_ms']:.0f}/{enroll['p99_ms']:.0f} ms "
        f"(first click to answer {to_answer['p50_ms']:.0f}/{to_answer['p99_ms']:.0f} ms, "
        f"{phase.get('enrolls_refused', 0)} refused busy), "
        f"browse p50/p99 {browse['p50_ms']:.1f}/{browse['p99_ms']:.0f} ms, "
        f"cache hits {'n/a' if hit_rate is None else f'{hit_rate:.2%}'}, {phase['server_errors']} 5xx"
    )


def seat_check_of(stack: BenchStack, course_ids: list[str]) -> dict[str, Any]:
    """benchmarks.seat_check in a process of its own (it needs Django): counters against records."""
    completed = subprocess.run(
        [str(VENV_BIN / "python"), "-m", "benchmarks.seat_check", *course_ids],
        cwd=ROOT,
        env={**os.environ, **stack.env()},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(completed.stdout)
