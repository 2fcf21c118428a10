"""What the server side did during a measured window: requests, DynamoDB calls and consumed capacity
(counted in every gunicorn worker by benchmarks/instrumentation.py), cache hits and misses by family
(/metrics, all workers), and the CPU of the web server's, DynamoDB Local's and the Celery workers'
process groups and of the whole machine (/proc).

A Snapshot is taken before and after the window; server_figures() is the difference, per request.
"""

from __future__ import annotations

import os
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.stack import BenchStack, base_url
from devstack.services import ManagedProcess

COUNTERS_KEY = "bench:counters"  # benchmarks.instrumentation.COUNTERS_KEY (not imported: it imports Django)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# Every worker adds its counts to Redis a few times a second and its cache lookups every second:
# waiting this long before reading lets all of them do so.
FLUSH_WAIT_SECONDS = 1.5


def process_group_cpu_seconds(group_id: int) -> float:
    """CPU time of every process in a process group, with the children its processes reaped."""
    ticks = 0
    for stat_path in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_path.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # After the ")" of the command name: state ppid pgrp ... utime(12) stime(13) cutime(14) cstime(15).
        if int(fields[2]) == group_id:
            ticks += sum(int(value) for value in fields[11:15])
    return ticks / CLOCK_TICKS


def machine_cpu_seconds() -> float:
    """CPU time every core of the machine has spent busy since boot (/proc/stat's first line: all
    but idle and iowait; guest time is inside user's)."""
    with open("/proc/stat") as stat:
        fields = [int(value) for value in stat.readline().split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def counters(stack: BenchStack) -> dict[str, float]:
    return {key.decode(): float(value) for key, value in stack.redis().hgetall(COUNTERS_KEY).items()}


TOKEN_CHECK_FAMILIES = frozenset({"user_auth"})
# benchmarks.instrumentation's per-route fields.
ROUTE_REQUESTS, ROUTE_CPU_MS = "route_requests:", "route_cpu_ms:"


def cache_lookups(url: str, *, metrics_token: str) -> dict[str, tuple[int, int]]:
    """Hits and misses by key family, all workers, from /metrics."""
    request = urllib.request.Request(f"{url}/metrics", headers={"Authorization": f"Bearer {metrics_token}"})
    with urllib.request.urlopen(request, timeout=60) as response:
        body = response.read().decode()
    lookups: dict[str, tuple[int, int]] = {}
    for line in body.splitlines():
        if line.startswith("course_cache_lookups_total"):
            family = line.split('family="', 1)[1].split('"', 1)[0]
            value = int(float(line.rsplit(" ", 1)[1]))
            hits, misses = lookups.get(family, (0, 0))
            lookups[family] = (hits + value, misses) if 'outcome="hit"' in line else (hits, misses + value)
    return lookups


@dataclass
class Snapshot:
    at: float
    counters: dict[str, float]
    lookups: dict[str, tuple[int, int]]
    server_cpu: float
    dynamodb_cpu: float
    # The Celery workers' process groups, and every core of the machine busy (0 in older tests).
    worker_cpu: float = 0.0
    machine_cpu: float = 0.0


def snapshot(stack: BenchStack, server: ManagedProcess, *, cache_enabled: bool) -> Snapshot:
    time.sleep(FLUSH_WAIT_SECONDS)
    # The clocks first, together: /metrics may keep the snapshot waiting behind a busy server.
    at = time.monotonic()
    server_cpu = process_group_cpu_seconds(server.process.pid)
    dynamodb_cpu = process_group_cpu_seconds(stack.dynamodb.process.pid)
    worker_cpu = sum(process_group_cpu_seconds(worker.process.pid) for worker in stack.workers)
    machine_cpu = machine_cpu_seconds()
    return Snapshot(
        at=at,
        counters=counters(stack),
        # Without a cache there is nothing to count, and a saturated server would keep /metrics waiting.
        lookups=cache_lookups(base_url(server), metrics_token=stack.metrics_token) if cache_enabled else {},
        server_cpu=server_cpu,
        dynamodb_cpu=dynamodb_cpu,
        worker_cpu=worker_cpu,
        machine_cpu=machine_cpu,
    )


def cpu_by_process(before: Snapshot, after: Snapshot) -> dict[str, float]:
    """Where the machine's cores went between two snapshots, in percent of one core: the web server,
    DynamoDB Local, the Celery workers, everything else (the load generator, Redis, the harness, the
    machine's own), and idle (of os.cpu_count() cores)."""
    seconds = max(0.001, after.at - before.at)
    web = after.server_cpu - before.server_cpu
    dynamodb = after.dynamodb_cpu - before.dynamodb_cpu
    workers = after.worker_cpu - before.worker_cpu
    busy = after.machine_cpu - before.machine_cpu
    cores = os.cpu_count() or 1
    return {
        "web": round(100 * web / seconds, 1),
        "dynamodb_local": round(100 * dynamodb / seconds, 1),
        "workers": round(100 * workers / seconds, 1),
        # /proc/stat and the processes' own counts tick apart: a few percent either way is rounding.
        "everything_else": round(max(0.0, 100 * (busy - web - dynamodb - workers) / seconds), 1),
        "idle": round(max(0.0, 100 * cores - 100 * busy / seconds), 1),
    }


def server_figures(before: Snapshot, after: Snapshot, *, cache_enabled: bool) -> dict[str, Any]:
    def delta(name: str) -> float:
        return after.counters.get(name, 0.0) - before.counters.get(name, 0.0)

    requests = max(1.0, delta("requests"))
    seconds = max(0.001, after.at - before.at - FLUSH_WAIT_SECONDS)
    by_family = {
        family: (hits - before.lookups.get(family, (0, 0))[0], misses - before.lookups.get(family, (0, 0))[1])
        for family, (hits, misses) in after.lookups.items()
    }
    # The token check's lookups (user_auth, one per authenticated request, nearly always a hit) read
    # no data a client asked for: the headline rate leaves them out, which they would flatter.
    data_families = [counts for family, counts in by_family.items() if family not in TOKEN_CHECK_FAMILIES]
    hits = sum(family_hits for family_hits, _ in data_families)
    misses = sum(family_misses for _, family_misses in data_families)
    operations = {
        name.split(":", 1)[1]: round(delta(name) / requests, 4)
        for name in after.counters
        if name.startswith("dynamodb_calls:") and delta(name)
    }
    routes = {}
    for name in after.counters:
        if name.startswith(ROUTE_REQUESTS) and (route_requests := delta(name)):
            route = name.removeprefix(ROUTE_REQUESTS)
            routes[route] = (int(route_requests), delta(ROUTE_CPU_MS + route))
    django_cpu_ms = sum(cpu_ms for _, cpu_ms in routes.values())
    return {
        "server_requests": int(delta("requests")),
        "cache_hit_rate": hits / (hits + misses) if cache_enabled and hits + misses else None,
        "cache_lookups": hits + misses,
        "cache_hit_rate_by_family": {
            family: round(family_hits / (family_hits + family_misses), 4)
            for family, (family_hits, family_misses) in sorted(by_family.items())
            if family_hits + family_misses
        },
        "dynamodb_calls_per_request": delta("dynamodb_calls") / requests,
        "dynamodb_calls_by_operation_per_request": operations,
        "read_capacity_per_request": delta("read_capacity") / requests,
        "write_capacity_per_request": delta("write_capacity") / requests,
        # What the Celery worker did meanwhile (emails, audit records), per request served.
        "worker_dynamodb_calls_per_request": delta("worker:dynamodb_calls") / requests,
        "worker_read_capacity_per_request": delta("worker:read_capacity") / requests,
        "server_cpu_percent": 100 * (after.server_cpu - before.server_cpu) / seconds,
        "server_cpu_ms_per_request": 1000 * (after.server_cpu - before.server_cpu) / requests,
        "dynamodb_local_cpu_percent": 100 * (after.dynamodb_cpu - before.dynamodb_cpu) / seconds,
        # Inside Django, by route (benchmarks/instrumentation.py): what each kind of request costs and
        # its share of the CPU the requests' threads spent; the rest of the process's is the server's.
        "django_cpu_ms_per_request": django_cpu_ms / requests,
        "cpu_by_route": {
            route: {
                "requests": route_requests,
                "cpu_ms_per_request": round(cpu_ms / route_requests, 3),
                "share_of_django_cpu": round(cpu_ms / django_cpu_ms, 4) if django_cpu_ms else None,
            }
            for route, (route_requests, cpu_ms) in sorted(routes.items(), key=lambda item: -item[1][1])
        },
    }
