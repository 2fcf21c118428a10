"""`make bench-scale`: course-list latency as the catalogue grows. Seeds each size in turn (writing
only what the previous size lacked), then times course-list requests one at a time against the
product with and without the cache and against the baseline.
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import UTC, datetime
from typing import Any

from benchmarks.api_client import get_json, sign_in, timed_get
from benchmarks.report import machine_description
from benchmarks.server_figures import counters
from benchmarks.stack import BenchStack, base_url, running_stack
from benchmarks.stats import percentile
from benchmarks.variables import BenchVariables

# The same course-list paths at every size, so the sizes differ only by the table behind them.
PATHS_PER_SIZE = 20
# Workers add their counts to Redis every 0.25 s (benchmarks/instrumentation.py).
COUNTERS_FLUSH_WAIT_SECONDS = 1.0


def scale(variables: BenchVariables) -> dict[str, Any]:
    """The whole `make bench-scale` run: its results, as scale.json holds them."""
    requests = max(1, variables.integer("BENCH_SCALE_REQUESTS"))
    baseline_requests = max(1, variables.integer("BENCH_SCALE_BASELINE_REQUESTS"))
    rng = random.Random(6)
    started = time.monotonic()
    rows = []
    with running_stack(variables.output_dir(), variables) as stack:
        cached_server = stack.gunicorn(name="scale-cached", cache_enabled=True)
        uncached_server = stack.gunicorn(name="scale-uncached", cache_enabled=False)
        for courses in variables.scale_sizes():
            dataset = stack.seed(courses=courses)
            stack.flush_cache()
            token = sign_in(base_url(cached_server), "student1@demo.edu")
            paths = course_list_paths(variables, rng)
            row: dict[str, Any] = {"courses": courses, "seed_seconds": dataset["seed_seconds"]}
            for name, server, prefix, count in (
                ("cached", cached_server, "/api", requests),
                ("uncached", uncached_server, "/api", requests),
                ("baseline", cached_server, "/baseline/api", baseline_requests),
            ):
                url = base_url(server) + prefix
                if name == "cached":
                    # The steady state: every page cached, and the seat entries laid over it, which
                    # the first hit of a page loads (a page read from a GSI cannot vouch for seats).
                    for path in paths * 2:
                        get_json(url + path, token)
                row[name] = measure_sequential(stack, url=url, paths=paths, token=token, count=count)
                print(
                    f"  {courses} courses, {name}: p50 {row[name]['p50_ms']:.1f} ms, "
                    f"avg {row[name]['average_ms']:.1f} ms, {row[name]['read_capacity_per_request']:.1f} RCU/request",
                    flush=True,
                )
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


def measure_sequential(stack: BenchStack, *, url: str, paths: list[str], token: str, count: int) -> dict[str, Any]:
    """`count` GETs one at a time over `paths`: latency at the client, read capacity at the server
    (every gunicorn of the stack counts into the same Redis hash)."""
    time.sleep(COUNTERS_FLUSH_WAIT_SECONDS)  # the warm-up's counts are flushed before the measured ones start
    before = counters(stack)
    latencies = [timed_get(url + paths[number % len(paths)], token) for number in range(count)]
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
