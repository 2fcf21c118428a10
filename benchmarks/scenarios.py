"""`make bench`'s measurements, in the order it runs them on one seeded stack: the three
configurations under the registration-week scenario, the peak cached-read throughput against bare
Django, and the registration rush with its seat check. docs/benchmarks.md says what each measures.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from benchmarks import loadgen
from benchmarks.api_client import get_json, sign_in
from benchmarks.endpoints import before_figures, key_endpoints
from benchmarks.locust_runner import LocustRun, run_locust
from benchmarks.report import machine_description
from benchmarks.rush import measure_rush
from benchmarks.server_figures import process_group_cpu_seconds, server_figures
from benchmarks.stack import BenchStack, base_url, running_stack
from benchmarks.stats import percentile
from benchmarks.variables import BenchVariables

CONFIGURATIONS = {
    "product": "the product (cache on)",
    "uncached": "the product with CACHE_ENABLED=false",
    "baseline": 'the "before" baseline',
}


def bench(variables: BenchVariables) -> dict[str, Any]:
    """The whole `make bench` run: its results, as bench.json holds them."""
    names = variables.configuration_names(list(CONFIGURATIONS))
    # Read first: a missing or broken file stops the run before its minutes are spent.
    before = before_figures(variables.before_json())
    integer = variables.integer
    started = time.monotonic()
    with running_stack(variables.output_dir(), variables) as stack:
        dataset = stack.seed()
        stack.start_worker()
        configurations = {name: measure_configuration(stack, name) for name in names}
        peak = measure_peak(stack)
        rush = measure_rush(stack)
    return {
        "kind": "bench",
        "quick": variables.quick,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_description(),
        "wall_seconds": time.monotonic() - started,
        "dataset": dataset,
        "scenario": {
            "users": integer("BENCH_USERS"),
            "spawn_rate": integer("BENCH_SPAWN_RATE"),
            "warmup_seconds": integer("BENCH_WARMUP"),
            "measured_seconds": integer("BENCH_DURATION"),
            "gunicorn_workers": variables.gunicorn_workers() or "2 x cores + 1",
        },
        "configurations": configurations,
        "key_endpoints": key_endpoints(configurations.get("product")),
        "before": before,
        "peak": peak,
        "rush": rush,
        "ports": {"dynamodb": stack.dynamodb_port, "cache": stack.cache_port, "broker": stack.broker_port},
    }


def measure_configuration(stack: BenchStack, name: str) -> dict[str, Any]:
    """One configuration under the registration-week scenario (locustfiles/registration.py)."""
    integer = stack.variables.integer
    users = integer("BENCH_USERS")
    spawn_rate = max(1, integer("BENCH_SPAWN_RATE"))
    duration = integer("BENCH_DURATION")
    warmup = integer("BENCH_WARMUP")
    cache_enabled = name == "product"
    stack.flush_cache()
    if cache_enabled:
        print(f"{name}: {stack.warm_cache()}", flush=True)
    # The baseline has no cache of its own; its server keeps the product's settings (cache on).
    server = stack.gunicorn(name=name, cache_enabled=name != "uncached")
    try:
        print(
            f"{name}: {users} users spawned at {spawn_rate}/s, {warmup} s warm-up, then {duration} s measured ...",
            flush=True,
        )
        rows, before, after = run_locust(
            stack,
            server,
            name=name,
            run=LocustRun(
                locustfile="registration.py",
                user_classes=["StudentUser", "InstructorUser"],
                users=users,
                spawn_rate=spawn_rate,
                seconds=-(-users // spawn_rate) + warmup + duration,
                reset_after_spawn=True,
                cache_enabled=cache_enabled,
                env={
                    **stack.dataset_env(),
                    "BENCH_WARMUP": str(warmup),
                    "BENCH_API_PREFIX": "/baseline/api" if name == "baseline" else "/api",
                },
            ),
        )
    finally:
        stack.stop_service(server)
    figures = {
        "configuration": CONFIGURATIONS[name],
        **rows["Aggregated"],
        **server_figures(before, after, cache_enabled=cache_enabled),
        "endpoints": {key: value for key, value in rows.items() if key != "Aggregated"},
    }
    print(
        f"  avg {figures['average_ms']:.1f} ms, p50 {figures['p50_ms']:.0f} ms, p99 {figures['p99_ms']:.0f} ms, "
        f"{figures['requests_per_second']:.0f} req/s, {figures['failures']} failures",
        flush=True,
    )
    return figures


def measure_peak(stack: BenchStack) -> dict[str, Any]:
    """Cached course-list reads against the bare JsonResponse, same gunicorn, one after the other."""
    integer = stack.variables.integer
    stack.flush_cache()
    server = stack.gunicorn(name="peak", cache_enabled=True)
    try:
        url = base_url(server)
        token = sign_in(url, "student1@demo.edu")
        path = f"/api/courses?semester_id={stack.variables.semester_ids()[0]}"
        for _ in range(20):
            get_json(url + path, token)  # every worker has it cached and warm
        endpoints = {
            "cached course list": (path, {"Authorization": f"Bearer {token}"}),
            "bare Django JsonResponse": ("/bench/bare", {}),
        }
        rounds = max(1, integer("BENCH_PEAK_ROUNDS"))
        seconds = integer("BENCH_PEAK_SECONDS") / rounds
        totals = {
            label: {"requests": 0, "errors": 0, "seconds": 0.0, "cpu": 0.0, "latencies": []} for label in endpoints
        }
        # Alternating short rounds: other load on the machine then weighs on both endpoints alike.
        for round_number in range(1, rounds + 1):
            for label, (target, headers) in endpoints.items():
                print(f"peak round {round_number}/{rounds}: {label} for {seconds:.0f} s ...", flush=True)
                before_cpu = process_group_cpu_seconds(server.process.pid)
                result = loadgen.run(
                    host="127.0.0.1",
                    port=server.port,
                    path=target,
                    headers=headers,
                    seconds=seconds,
                    processes=max(1, integer("BENCH_PEAK_PROCESSES")),
                    connections=max(1, integer("BENCH_PEAK_CONNECTIONS")),
                )
                total = totals[label]
                total["cpu"] += process_group_cpu_seconds(server.process.pid) - before_cpu
                total["requests"] += result.requests
                total["errors"] += result.errors
                total["seconds"] += result.seconds
                total["latencies"] += result.latencies_ms
                print(f"  {result.per_second:.0f} req/s, p99 {result.percentile(0.99):.1f} ms", flush=True)
    finally:
        stack.stop_service(server)
    results = {
        label: {
            "path": endpoints[label][0],
            "requests": total["requests"],
            "errors": total["errors"],
            "requests_per_second": total["requests"] / total["seconds"],
            "p50_ms": percentile(total["latencies"], 0.50),
            "p99_ms": percentile(total["latencies"], 0.99),
            "server_cpu_percent": 100 * total["cpu"] / total["seconds"],
        }
        for label, total in totals.items()
    }
    cached, bare = results["cached course list"], results["bare Django JsonResponse"]
    ratio = cached["requests_per_second"] / bare["requests_per_second"] if bare["requests_per_second"] else None
    return {
        "connections": integer("BENCH_PEAK_CONNECTIONS"),
        "processes": integer("BENCH_PEAK_PROCESSES"),
        "seconds": integer("BENCH_PEAK_SECONDS"),
        "rounds": rounds,
        "results": results,
        "cached_over_bare": ratio,
    }
