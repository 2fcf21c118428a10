"""`make bench-scale`: course-list latency as the catalogue grows. Seeds each size in turn (writing
only what the previous size lacked), then times course-list requests one at a time against the
product with and without the cache and against the baseline.

Every benchmark finishes on a slower machine: a request that fails or runs out of time (the baseline
Scanning 100,000 courses) ends that measurement, which is reported as "over N s" (N: the limit that
hit) or as the failure it was, and the run goes on.
"""

from __future__ import annotations

import http.client
import json
import random
import statistics
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from benchmarks.api_client import get_json, sign_in
from benchmarks.report import machine_description, unanswered_text
from benchmarks.server_figures import counters
from benchmarks.stack import BenchStack, base_url, running_stack
from benchmarks.stats import percentile
from benchmarks.variables import BenchVariables
from devstack.services import ManagedProcess

# The same course-list paths at every size, so the sizes differ only by the table behind them.
PATHS_PER_SIZE = 20
# Workers add their counts to Redis every 0.25 s (benchmarks/instrumentation.py).
COUNTERS_FLUSH_WAIT_SECONDS = 1.0
# How long the runner waits for one answer: the baseline's Scan of 100,000 courses took 18 s on a fast
# machine and outlived gunicorn's 30 s worker timeout on one half as fast.
REQUEST_LIMIT_SECONDS = 300
# The baseline's server gives a request longer than the runner does (gunicorn's worker timeout; granian
# has none), so that the runner's limit is the one that hits and the server is not killed mid-Scan.
BASELINE_SERVER_TIMEOUT_SECONDS = REQUEST_LIMIT_SECONDS + 60
# Each configuration's server: the cache setting, and the environment it adds to the stack's.
SERVERS: dict[str, tuple[bool, dict[str, str]]] = {
    "cached": (True, {}),
    "uncached": (False, {}),
    # The baseline has no cache of its own; its server keeps the product's settings (cache on).
    "baseline": (True, {"GUNICORN_TIMEOUT": str(BASELINE_SERVER_TIMEOUT_SECONDS)}),
}
SERVER_TIMEOUT_SECONDS = {"baseline": BASELINE_SERVER_TIMEOUT_SECONDS}


def scale(variables: BenchVariables) -> dict[str, Any]:
    """The whole `make bench-scale` run: its results, as scale.json holds them."""
    requests = max(1, variables.integer("BENCH_SCALE_REQUESTS"))
    baseline_requests = max(1, variables.integer("BENCH_SCALE_BASELINE_REQUESTS"))
    rng = random.Random(6)
    started = time.monotonic()
    rows = []
    with running_stack(variables.output_dir(), variables) as stack:
        servers = {name: start_server(stack, name) for name in SERVERS}
        for courses in variables.scale_sizes():
            dataset = stack.seed(courses=courses)
            stack.flush_cache()
            token = sign_in(base_url(servers["cached"]), "student1@demo.edu")
            paths = course_list_paths(variables, rng)
            row: dict[str, Any] = {"courses": courses, "seed_seconds": dataset["seed_seconds"]}
            for name, prefix, count in (
                ("cached", "/api", requests),
                ("uncached", "/api", requests),
                ("baseline", "/baseline/api", baseline_requests),
            ):
                url = base_url(servers[name]) + prefix
                if name == "cached":
                    # The steady state: every page cached, and the seat entries laid over it, which
                    # the first hit of a page loads (a page read from a GSI cannot vouch for seats).
                    for path in paths * 2:
                        get_json(url + path, token)
                row[name] = measure_sequential(
                    stack,
                    url=url,
                    paths=paths,
                    token=token,
                    count=count,
                    server_timeout_seconds=SERVER_TIMEOUT_SECONDS.get(name),
                )
                print(f"  {courses} courses, {name}: {describe_measurement(row[name])}", flush=True)
                if "unanswered" in row[name]:
                    # The server may still work on what it was given up on: a new one, so that this
                    # work neither slows nor counts into the next measurements.
                    stack.stop_service(servers[name])
                    servers[name] = start_server(stack, name)
            rows.append(row)
    return {
        "kind": "scale",
        "quick": variables.quick,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_description(),
        "wall_seconds": time.monotonic() - started,
        "rows": rows,
    }


def course_list_paths(variables: BenchVariables, rng: random.Random) -> list[str]:
    """Course lists of random semesters, half of them narrowed to a department."""
    semesters = variables.semester_ids()
    departments = variables.integer("BENCH_DEPARTMENTS")
    return [
        f"/courses?semester_id={rng.choice(semesters)}"
        + (f"&department_id={rng.randint(1, departments)}" if rng.random() < 0.5 else "")
        for _ in range(PATHS_PER_SIZE)
    ]


def start_server(stack: BenchStack, name: str) -> ManagedProcess:
    cache_enabled, env = SERVERS[name]
    return stack.server(name=f"scale-{name}", cache_enabled=cache_enabled, env=env)


@dataclass
class Unanswered(Exception):
    """A GET that failed or ran out of time: what happened, after how long, and the limit that hit
    (None when none did: the server answered an error before any limit)."""

    error: str
    after_seconds: float
    over_seconds: float | None

    def figures(self) -> dict[str, Any]:
        return {"error": self.error, "after_seconds": round(self.after_seconds, 1), "over_seconds": self.over_seconds}


def timed_get_within(url: str, token: str, *, server_timeout_seconds: float | None = None) -> float:
    """Milliseconds for one GET, answer read and decoded, waiting at most REQUEST_LIMIT_SECONDS;
    Unanswered if it failed or timed out."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_LIMIT_SECONDS) as response:
            json.loads(response.read())
    except (OSError, http.client.HTTPException, ValueError) as error:
        raise unanswered(error, time.perf_counter() - started, server_timeout_seconds=server_timeout_seconds) from None
    return (time.perf_counter() - started) * 1000


def unanswered(error: Exception, after_seconds: float, *, server_timeout_seconds: float | None) -> Unanswered:
    """Which limit a failed GET hit: the runner's own wait, the server's timeout (a worker killed
    mid-request answers a 500 or closes the connection at that moment), or none."""
    if isinstance(error, TimeoutError) or isinstance(getattr(error, "reason", None), TimeoutError):
        return Unanswered("timed out", after_seconds, REQUEST_LIMIT_SECONDS)
    if isinstance(error, urllib.error.HTTPError):
        description = f"HTTP {error.code}"
    elif isinstance(error, urllib.error.URLError):
        description = str(error.reason)
    else:
        description = f"{type(error).__name__}: {error}".removesuffix(": ")
    # A second's leeway: the server's clock for its timeout starts a little after the runner's.
    reached_server_timeout = server_timeout_seconds is not None and after_seconds >= server_timeout_seconds - 1
    return Unanswered(description, after_seconds, server_timeout_seconds if reached_server_timeout else None)


def measure_sequential(
    stack: BenchStack,
    *,
    url: str,
    paths: list[str],
    token: str,
    count: int,
    server_timeout_seconds: float | None = None,
) -> dict[str, Any]:
    """`count` GETs one at a time over `paths`: latency at the client, read capacity at the server
    (every server of the stack counts into the same Redis hash). The first GET that fails or times
    out ends the measurement: its latencies are unknown (None), and "unanswered" says why."""
    time.sleep(COUNTERS_FLUSH_WAIT_SECONDS)  # the warm-up's counts are flushed before the measured ones start
    before = counters(stack)
    latencies: list[float] = []
    try:
        for number in range(count):
            latencies.append(
                timed_get_within(url + paths[number % len(paths)], token, server_timeout_seconds=server_timeout_seconds)
            )
    except Unanswered as failure:
        # What was answered before the failure would understate the latency: none of it is reported.
        return {
            "requests": count,
            "answered": len(latencies),
            "average_ms": None,
            "p50_ms": None,
            "p99_ms": None,
            # The server may still be reading for the request given up on: its count is incomplete.
            "read_capacity_per_request": None,
            "unanswered": failure.figures(),
        }
    time.sleep(COUNTERS_FLUSH_WAIT_SECONDS)
    after = counters(stack)
    served = max(1.0, after.get("requests", 0) - before.get("requests", 0))
    return {
        "requests": count,
        "average_ms": statistics.fmean(latencies),
        "p50_ms": percentile(latencies, 0.5),
        "p99_ms": percentile(latencies, 0.99),
        "read_capacity_per_request": (after.get("read_capacity", 0) - before.get("read_capacity", 0)) / served,
    }


def describe_measurement(measurement: dict[str, Any]) -> str:
    """One measurement on the console."""
    failed = unanswered_text(measurement)
    if failed is not None:
        return f"{failed}, after {measurement['answered']} of {measurement['requests']} requests answered"
    return (
        f"p50 {measurement['p50_ms']:.1f} ms, avg {measurement['average_ms']:.1f} ms, "
        f"{measurement['read_capacity_per_request']:.1f} RCU/request"
    )
