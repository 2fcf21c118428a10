"""`make bench`'s measurements, in the order it runs them on one seeded stack: the three
configurations under the registration-week scenario, bare Django under the product's load of that
scenario, the peak cached-read throughput against bare Django under every candidate web server
(servers.py), and the registration rush with its seat check.
docs/benchmarks.md says what each measures.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from benchmarks.endpoints import before_figures, key_endpoints
from benchmarks.locust_runner import LocustRun, run_locust
from benchmarks.report import machine_description
from benchmarks.rush import measure_rush
from benchmarks.server_figures import server_figures
from benchmarks.servers import measure_peaks
from benchmarks.stack import BenchStack, running_stack
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
        bare_at_mix_load = measure_bare_at_mix_load(stack, configurations["product"]) if "product" in names else None
        peak = measure_peaks(stack)
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
            "web_server": variables.web_server_description(),
        },
        "configurations": configurations,
        "key_endpoints": key_endpoints(configurations.get("product")),
        "before": before,
        "bare_at_mix_load": bare_at_mix_load,
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
    server = stack.server(name=name, cache_enabled=name != "uncached")
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


def measure_bare_at_mix_load(stack: BenchStack, mix: dict[str, Any]) -> dict[str, Any]:
    """Bare Django (/bench/bare) under the product's registration-week load: as many users as the
    mix, each at its share of the mix's request rate (locustfiles/bare.py), on a server of its own
    configured as the product's. A request's CPU depends on the load: the peak's wrk keeps every
    thread busy and spends less per request than a server woken for each of 190 requests a second."""
    integer = stack.variables.integer
    users = integer("BENCH_USERS")
    spawn_rate = max(1, integer("BENCH_SPAWN_RATE"))
    warmup = min(10, integer("BENCH_WARMUP"))
    duration = min(30, integer("BENCH_DURATION"))
    rate = float(mix["requests_per_second"])
    server = stack.server(name="bare", cache_enabled=True)
    try:
        print(
            f"bare at the mix's load: {users} users, {rate:.0f} req/s, {warmup} s warm-up, {duration} s ...", flush=True
        )
        rows, before, after = run_locust(
            stack,
            server,
            name="bare",
            run=LocustRun(
                locustfile="bare.py",
                user_classes=["BareUser"],
                users=users,
                spawn_rate=spawn_rate,
                seconds=-(-users // spawn_rate) + warmup + duration,
                reset_after_spawn=True,
                cache_enabled=False,  # no cache lookups to count
                env={
                    **stack.dataset_env(),
                    "BENCH_WARMUP": str(warmup),
                    "BENCH_BARE_RATE_PER_USER": str(rate / users),
                },
            ),
        )
    finally:
        stack.stop_service(server)
    figures = server_figures(before, after, cache_enabled=False)
    bare = {
        "users": users,
        "target_requests_per_second": rate,
        **{key: rows["Aggregated"][key] for key in ("requests", "failures", "p50_ms", "p99_ms", "requests_per_second")},
        "server_requests": figures["server_requests"],
        "server_cpu_percent": figures["server_cpu_percent"],
        "server_cpu_ms_per_request": figures["server_cpu_ms_per_request"],
    }
    print(
        f"  {bare['requests_per_second']:.0f} req/s, {bare['server_cpu_ms_per_request']:.2f} ms of server CPU per "
        f"request, {bare['failures']} failures",
        flush=True,
    )
    return bare
