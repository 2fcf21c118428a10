"""`make bench`, `make bench-scale`, `make bench-quick`: the before/after benchmark on its own stack.

    .venv/bin/python -m benchmarks.run bench [--quick]
    .venv/bin/python -m benchmarks.run scale [--quick]

Starts DynamoDB Local (in memory), a cache Redis, a broker Redis, a Celery worker and gunicorn with
benchmarks.settings (production settings plus the baseline and counters) on free ports, seeds the
dataset, measures, and stops everything on exit, failure or Ctrl-C. Results go to BENCH_OUTPUT_DIR
(default .run/bench/): Markdown, JSON, PNG charts, locust's HTML and CSV reports, service logs.

This process never imports Django, boto3 or requests: locust (gevent) runs as a subprocess, and
anything that needs the models runs through manage.py or `python -m benchmarks.seat_check`.
Every size, duration and count is an environment variable (BENCH_*), documented in the README.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis

from benchmarks import loadgen
from benchmarks.stats import percentile
from devstack.services import (
    ROOT,
    VENV_BIN,
    ManagedProcess,
    ServiceError,
    celery_worker,
    dynamodb_local,
    free_port,
    gunicorn_server,
    redis_server,
)

COUNTERS_KEY = "bench:counters"  # benchmarks.instrumentation.COUNTERS_KEY (not imported: it imports Django)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
CONFIGURATIONS = {
    "product": "the product (cache on)",
    "uncached": "the product with CACHE_ENABLED=false",
    "baseline": 'the "before" baseline',
}

FULL = {
    "BENCH_COURSES": 10_000,
    "BENCH_SEMESTERS": 10,
    "BENCH_DEPARTMENTS": 20,
    "BENCH_STUDENTS": 5_000,
    "BENCH_ENROLLMENTS": 20_000,
    "BENCH_INSTRUCTORS": 0,  # 0: seed_demo's default, one per 30 courses
    "BENCH_USERS": 200,
    "BENCH_SPAWN_RATE": 10,
    "BENCH_DURATION": 60,
    "BENCH_WARMUP": 30,
    "BENCH_PEAK_SECONDS": 30,
    "BENCH_PEAK_CONNECTIONS": 32,
    "BENCH_PEAK_PROCESSES": 2,
    "BENCH_PEAK_ROUNDS": 3,
    "BENCH_RUSH_USERS": 300,
    "BENCH_RUSH_BROWSERS": 200,
    "BENCH_RUSH_SPAWN_RATE": 20,
    "BENCH_RUSH_SECONDS": 75,
    "BENCH_RUSH_COURSES": 20,
    "BENCH_LOCUST_PROCESSES": 1,
    "BENCH_SCALE_REQUESTS": 200,
    "BENCH_SCALE_BASELINE_REQUESTS": 5,
}
QUICK = {
    **FULL,
    "BENCH_COURSES": 1_000,
    "BENCH_STUDENTS": 600,
    "BENCH_ENROLLMENTS": 2_000,
    "BENCH_USERS": 50,
    "BENCH_DURATION": 20,
    "BENCH_WARMUP": 10,
    "BENCH_PEAK_SECONDS": 10,
    "BENCH_RUSH_USERS": 60,
    "BENCH_RUSH_BROWSERS": 40,
    "BENCH_RUSH_SECONDS": 30,
    "BENCH_SCALE_REQUESTS": 50,
    "BENCH_SCALE_BASELINE_REQUESTS": 3,
}
DEFAULT_SCALE_SIZES = {"full": "1000,10000,100000", "quick": "300,1000,3000"}


def setting(defaults: dict[str, int], name: str) -> int:
    raw = os.environ.get(name, "")
    if not raw:
        return defaults[name]
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be an integer, not {raw!r}") from None
    if value < 0:
        raise SystemExit(f"{name} must be 0 or more, not {value}")
    return value


def semester_ids(count: int) -> list[int]:
    """courseproject.demo.semester_ids, repeated here so this process need not import the project."""
    return [(2026 + number // 3) * 10 + number % 3 + 1 for number in range(count)]


# --- The stack -----------------------------------------------------------------------------------


@dataclass
class Stack:
    output_dir: Path
    dynamodb_port: int = field(default_factory=free_port)
    cache_port: int = field(default_factory=free_port)
    broker_port: int = field(default_factory=free_port)
    services: list[ManagedProcess] = field(default_factory=list)
    dynamodb: ManagedProcess | None = None

    @property
    def log_dir(self) -> Path:
        return self.output_dir / "logs"

    def env(self, *, cache_enabled: bool = True) -> dict[str, str]:
        return {
            "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
            "DJANGO_SECRET_KEY": self.secret_key,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DYNAMODB_ENDPOINT_URL": f"http://127.0.0.1:{self.dynamodb_port}",
            "DYNAMODB_TABLE_PREFIX": "bench-",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "REDIS_URL": f"redis://127.0.0.1:{self.cache_port}/0",
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{self.broker_port}/0",
            "CACHE_ENABLED": "true" if cache_enabled else "false",
            # Plain HTTP on loopback; no load balancer in front.
            "SECURE_SSL_REDIRECT": "false",
            # The request log would measure the log pipe; in production it goes to stdout and CloudWatch.
            "REQUEST_LOG": "false",
            "GUNICORN_ACCESS_LOG": "off",
            # No worker recycling in the middle of a measurement (warm workers, whole CPU accounting).
            "GUNICORN_MAX_REQUESTS": "0",
            "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "CELERY_BEAT_SCHEDULE_FILENAME": str(self.output_dir / "celerybeat-schedule"),
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": str(ROOT),
        }

    def __post_init__(self) -> None:
        self.secret_key = secrets.token_urlsafe(48)

    def start(self) -> None:
        print(
            f"starting DynamoDB Local :{self.dynamodb_port}, cache Redis :{self.cache_port}, "
            f"broker Redis :{self.broker_port} ...",
            flush=True,
        )
        self.dynamodb = self._start(
            dynamodb_local(port=self.dynamodb_port, data_dir=None, log_path=self.log_dir / "dynamodb.log")
        )
        self._start(redis_server(port=self.cache_port, log_path=self.log_dir / "redis.log", maxmemory="1gb"))
        self._start(
            redis_server(
                port=self.broker_port, log_path=self.log_dir / "redis-broker.log", eviction_policy="noeviction"
            )
        )
        self.manage("create_indexes")

    def _start(self, service: ManagedProcess, *, timeout: float = 60.0) -> ManagedProcess:
        self.services.append(service)
        service.start(timeout=timeout)
        return service

    def stop(self, service: ManagedProcess) -> None:
        service.stop()
        if service in self.services:
            self.services.remove(service)

    def stop_all(self) -> None:
        for service in reversed(self.services):
            service.stop()
        self.services.clear()

    def manage(self, *arguments: str, cache_enabled: bool = True) -> str:
        completed = subprocess.run(
            [str(VENV_BIN / "python"), "manage.py", *arguments],
            cwd=ROOT,
            env={**os.environ, **self.env(cache_enabled=cache_enabled)},
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            raise ServiceError(f"manage.py {' '.join(arguments)} failed:\n{completed.stdout}\n{completed.stderr}")
        return completed.stdout

    def seed(
        self, *, courses: int, students: int, enrollments: int, instructors: int, semesters: int, departments: int
    ) -> float:
        arguments = [
            "seed_demo",
            "--no-progress",
            f"--courses={courses}",
            f"--students={students}",
            f"--enrollments={enrollments}",
            f"--semesters={semesters}",
            f"--departments={departments}",
        ]
        if instructors:
            arguments.append(f"--instructors={instructors}")
        started = time.monotonic()
        output = self.manage(*arguments)
        seconds = time.monotonic() - started
        print(f"  {output.strip().splitlines()[0]} (wall {seconds:.1f} s)", flush=True)
        return seconds

    def start_worker(self) -> None:
        self._start(celery_worker(hostname="bench", log_path=self.log_dir / "celery-worker.log", env=self.env()))

    def gunicorn(self, *, name: str, cache_enabled: bool) -> ManagedProcess:
        port = free_port()
        env = self.env(cache_enabled=cache_enabled)
        if os.environ.get("BENCH_GUNICORN_WORKERS"):
            env["GUNICORN_WORKERS"] = os.environ["BENCH_GUNICORN_WORKERS"]
        return self._start(
            gunicorn_server(port=port, log_path=self.log_dir / f"gunicorn-{name}.log", env=env), timeout=90
        )

    def redis(self) -> redis.Redis:
        return redis.Redis(port=self.cache_port, protocol=2, socket_timeout=5)

    def flush_cache(self) -> None:
        self.redis().flushdb()


@contextlib.contextmanager
def running_stack(output_dir: Path) -> Iterator[Stack]:
    stack = Stack(output_dir=output_dir)
    # Background shells start us with SIGINT ignored; Ctrl-C and SIGTERM must always stop the stack.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        stack.start()
        yield stack
    finally:
        print("stopping the benchmark stack ...", flush=True)
        stack.stop_all()


def base_url(server: ManagedProcess) -> str:
    return f"http://127.0.0.1:{server.port}"


# --- Measuring -----------------------------------------------------------------------------------


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


def counters(stack: Stack) -> dict[str, float]:
    return {key.decode(): float(value) for key, value in stack.redis().hgetall(COUNTERS_KEY).items()}


def cache_lookups(url: str) -> dict[str, tuple[int, int]]:
    """Hits and misses by key family, all workers, from /metrics (every worker flushes each second)."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=60) as response:
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


def snapshot(stack: Stack, server: ManagedProcess, *, cache_enabled: bool) -> Snapshot:
    time.sleep(1.5)  # let every worker flush its counters
    return Snapshot(
        at=time.monotonic(),
        counters=counters(stack),
        # Without a cache there is nothing to count, and a saturated server would keep /metrics waiting.
        lookups=cache_lookups(base_url(server)) if cache_enabled else {},
        server_cpu=process_group_cpu_seconds(server.process.pid),
        dynamodb_cpu=process_group_cpu_seconds(stack.dynamodb.process.pid),
    )


def server_figures(before: Snapshot, after: Snapshot, *, cache_enabled: bool) -> dict[str, Any]:
    def delta(name: str) -> float:
        return after.counters.get(name, 0.0) - before.counters.get(name, 0.0)

    requests = max(1.0, delta("requests"))
    seconds = max(0.001, after.at - before.at - 1.5)
    by_family = {
        family: (hits - before.lookups.get(family, (0, 0))[0], misses - before.lookups.get(family, (0, 0))[1])
        for family, (hits, misses) in after.lookups.items()
    }
    hits = sum(family_hits for family_hits, _ in by_family.values())
    misses = sum(family_misses for _, family_misses in by_family.values())
    operations = {
        name.split(":", 1)[1]: round(delta(name) / requests, 4)
        for name in after.counters
        if name.startswith("dynamodb_calls:") and delta(name)
    }
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
    }


def read_locust_csv(prefix: Path) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    with prefix.with_name(prefix.name + "_stats.csv").open() as file:
        for row in csv.DictReader(file):
            if int(row["Request Count"]) == 0 and row["Name"] != "Aggregated":
                continue  # e.g. sign-ins, all made before the measured window
            name = "Aggregated" if row["Name"] == "Aggregated" else f"{row['Type']} {row['Name']}".strip()
            rows[name] = {
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "average_ms": float(row["Average Response Time"]),
                "p50_ms": float(row["50%"]),
                "p95_ms": float(row["95%"]),
                "p99_ms": float(row["99%"]),
                "max_ms": float(row["Max Response Time"]),
                "requests_per_second": float(row["Requests/s"]),
            }
    return rows


def combine(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Several locust rows as one: counts add up, latencies are request-weighted (percentiles too,
    an approximation; the per-endpoint rows are in the JSON)."""
    total = sum(row["requests"] for row in rows) or 1
    combined = {"requests": sum(row["requests"] for row in rows), "failures": sum(row["failures"] for row in rows)}
    for key in ("average_ms", "p50_ms", "p95_ms", "p99_ms"):
        combined[key] = sum(row[key] * row["requests"] for row in rows) / total
    combined["requests_per_second"] = sum(row["requests_per_second"] for row in rows)
    return combined


@dataclass
class LocustRun:
    locustfile: str
    user_classes: list[str]
    users: int
    spawn_rate: int
    seconds: int
    reset_after_spawn: bool
    cache_enabled: bool
    env: dict[str, str]


def run_locust(stack: Stack, server: ManagedProcess, *, name: str, run: LocustRun) -> tuple[dict, Snapshot, Snapshot]:
    """Runs locust headless as a subprocess; the server figures cover the same window as its stats."""
    prefix = stack.output_dir / f"locust-{name}"
    marker = stack.output_dir / f".spawned-{name}"
    marker.unlink(missing_ok=True)
    processes = setting(FULL, "BENCH_LOCUST_PROCESSES")
    argv = [
        str(VENV_BIN / "locust"),
        "-f",
        str(ROOT / "locustfiles" / run.locustfile),
        "--headless",
        "--host",
        base_url(server),
        "-u",
        str(run.users),
        "-r",
        str(run.spawn_rate),
        "-t",
        f"{run.seconds}s",
        "--stop-timeout",
        "5",
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--csv",
        str(prefix),
        "--html",
        str(prefix) + ".html",
        "--json-file",
        str(prefix) + ".json",
        *(["--processes", str(processes)] if processes > 1 else []),
        *run.user_classes,
    ]
    locust = ManagedProcess(
        name=f"locust ({name})",
        argv=argv,
        log_path=stack.log_dir / f"locust-{name}.log",
        env={**stack.env(), **run.env, "BENCH_SPAWNED_MARKER": str(marker)},
    )
    stack._start(locust)
    try:
        if run.reset_after_spawn:
            deadline = time.monotonic() + run.seconds + 60
            while not marker.exists() and locust.is_running() and time.monotonic() < deadline:
                time.sleep(0.2)
        before = snapshot(stack, server, cache_enabled=run.cache_enabled)
        locust.process.wait(timeout=run.seconds + 300)
        after = snapshot(stack, server, cache_enabled=run.cache_enabled)
    finally:
        stack.stop(locust)
    if locust.process.returncode not in (0, 1):  # 1: the run had failed requests, reported below
        raise ServiceError(f"locust ({name}) exited with {locust.process.returncode}:\n{locust.log_tail()}")
    rows = read_locust_csv(prefix)
    # Exceptions inside a simulated user (a bug in a locustfile) are not request failures; count them too.
    with prefix.with_name(prefix.name + "_exceptions.csv").open() as file:
        rows["Aggregated"]["exceptions"] = sum(int(row["Count"]) for row in csv.DictReader(file))
    return rows, before, after


def sign_in(url: str, email: str) -> str:
    request = urllib.request.Request(
        f"{url}/api/auth/login",
        data=json.dumps({"email": email, "password": os.environ.get("DEMO_PASSWORD", "registration-demo")}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["access"]


def get_json(url: str, token: str) -> Any:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=300) as response:
        return json.loads(response.read())


# --- make bench ------------------------------------------------------------------------------------


def dataset_env(defaults: dict[str, int]) -> dict[str, str]:
    courses = setting(defaults, "BENCH_COURSES")
    instructors = setting(defaults, "BENCH_INSTRUCTORS") or max(5, courses // 30)
    return {
        "BENCH_SEMESTER_IDS": ",".join(map(str, semester_ids(setting(defaults, "BENCH_SEMESTERS")))),
        "BENCH_DEPARTMENTS": str(setting(defaults, "BENCH_DEPARTMENTS")),
        "BENCH_STUDENTS": str(setting(defaults, "BENCH_STUDENTS")),
        "BENCH_INSTRUCTORS": str(instructors),
    }


def seed_dataset(stack: Stack, defaults: dict[str, int], *, courses: int | None = None) -> dict[str, Any]:
    sizes = {
        "courses": courses if courses is not None else setting(defaults, "BENCH_COURSES"),
        "students": setting(defaults, "BENCH_STUDENTS"),
        "enrollments": setting(defaults, "BENCH_ENROLLMENTS"),
        "instructors": setting(defaults, "BENCH_INSTRUCTORS"),
        "semesters": setting(defaults, "BENCH_SEMESTERS"),
        "departments": setting(defaults, "BENCH_DEPARTMENTS"),
    }
    print(f"seeding {sizes} ...", flush=True)
    return {**sizes, "seed_seconds": stack.seed(**sizes)}


def warm_cache(stack: Stack, semesters: list[int]) -> str:
    """What beat's courses.warm_hot_semesters keeps warm in production: each semester's first
    pages and the first page of each department, and the courses on them."""
    return stack.manage(
        "warm_cache", "--no-progress", "--max-pages=2", *[f"--semester={semester}" for semester in semesters]
    ).strip()


def measure_configuration(stack: Stack, defaults: dict[str, int], name: str) -> dict[str, Any]:
    users = setting(defaults, "BENCH_USERS")
    spawn_rate = max(1, setting(defaults, "BENCH_SPAWN_RATE"))
    duration = setting(defaults, "BENCH_DURATION")
    warmup = setting(defaults, "BENCH_WARMUP")
    cache_enabled = name == "product"
    stack.flush_cache()
    if cache_enabled:
        print(f"{name}: {warm_cache(stack, semester_ids(setting(defaults, 'BENCH_SEMESTERS')))}", flush=True)
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
                    **dataset_env(defaults),
                    "BENCH_WARMUP": str(warmup),
                    "BENCH_API_PREFIX": "/baseline/api" if name == "baseline" else "/api",
                },
            ),
        )
    finally:
        stack.stop(server)
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


def measure_peak(stack: Stack, defaults: dict[str, int], semesters: list[int]) -> dict[str, Any]:
    """Cached course-list reads against the bare JsonResponse, same gunicorn, one after the other."""
    stack.flush_cache()
    server = stack.gunicorn(name="peak", cache_enabled=True)
    try:
        url = base_url(server)
        token = sign_in(url, "student1@demo.edu")
        path = f"/api/courses?semester_id={semesters[0]}"
        for _ in range(20):
            get_json(url + path, token)  # every worker has it cached and warm
        endpoints = {
            "cached course list": (path, {"Authorization": f"Bearer {token}"}),
            "bare Django JsonResponse": ("/bench/bare", {}),
        }
        rounds = max(1, setting(defaults, "BENCH_PEAK_ROUNDS"))
        seconds = setting(defaults, "BENCH_PEAK_SECONDS") / rounds
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
                    processes=max(1, setting(defaults, "BENCH_PEAK_PROCESSES")),
                    connections=max(1, setting(defaults, "BENCH_PEAK_CONNECTIONS")),
                )
                total = totals[label]
                total["cpu"] += process_group_cpu_seconds(server.process.pid) - before_cpu
                total["requests"] += result.requests
                total["errors"] += result.errors
                total["seconds"] += result.seconds
                total["latencies"] += result.latencies_ms
                print(f"  {result.per_second:.0f} req/s, p99 {result.percentile(0.99):.1f} ms", flush=True)
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
            "connections": setting(defaults, "BENCH_PEAK_CONNECTIONS"),
            "processes": setting(defaults, "BENCH_PEAK_PROCESSES"),
            "seconds": setting(defaults, "BENCH_PEAK_SECONDS"),
            "rounds": rounds,
            "results": results,
            "cached_over_bare": ratio,
        }
    finally:
        stack.stop(server)


def measure_rush(stack: Stack, defaults: dict[str, int], semesters: list[int]) -> dict[str, Any]:
    """Registration opens: enrollers into the popular courses while others browse, on a warmed cache."""
    rush_users = setting(defaults, "BENCH_RUSH_USERS")
    browsers = setting(defaults, "BENCH_RUSH_BROWSERS")
    seconds = setting(defaults, "BENCH_RUSH_SECONDS")
    students = setting(defaults, "BENCH_STUDENTS")
    if students < rush_users + browsers:
        raise SystemExit(
            f"The rush needs BENCH_STUDENTS >= BENCH_RUSH_USERS + BENCH_RUSH_BROWSERS ({rush_users + browsers})"
        )
    stack.flush_cache()
    print(f"rush: {warm_cache(stack, semesters)}", flush=True)
    server = stack.gunicorn(name="rush", cache_enabled=True)
    try:
        url = base_url(server)
        token = sign_in(url, f"student{students}@demo.edu")
        candidates = get_json(f"{url}/api/courses?semester_id={semesters[0]}&limit=100", token)["results"]
        # The smallest courses fill up during the rush: the seat condition is exercised, not just present.
        candidates.sort(key=lambda course: (course["seats_available"], course["course_id"]))
        popular = [course["course_id"] for course in candidates[: setting(defaults, "BENCH_RUSH_COURSES")]]
        seats = sum(course["seats_available"] for course in candidates[: len(popular)])
        print(
            f"rush: {rush_users} students enroll into {len(popular)} courses ({seats} free seats) "
            f"while {browsers} browse, {seconds} s ...",
            flush=True,
        )
        rows, before, after = run_locust(
            stack,
            server,
            name="rush",
            run=LocustRun(
                locustfile="rush.py",
                user_classes=["RushStudent", "StudentUser"],
                users=rush_users + browsers,
                spawn_rate=max(1, setting(defaults, "BENCH_RUSH_SPAWN_RATE")),
                seconds=seconds,
                reset_after_spawn=False,
                cache_enabled=True,
                env={
                    **dataset_env(defaults),
                    "BENCH_RUSH_USERS": str(rush_users),
                    "BENCH_RUSH_COURSES": ",".join(popular),
                    "BENCH_BROWSER_FIRST_STUDENT": str(rush_users + 1),
                    # The rush is measured from its first enroll: no warm-up reset of the statistics.
                    "BENCH_WARMUP": "",
                },
            ),
        )
    finally:
        stack.stop(server)
    check = subprocess.run(
        [str(VENV_BIN / "python"), "-m", "benchmarks.seat_check", *popular],
        cwd=ROOT,
        env={**os.environ, **stack.env()},
        capture_output=True,
        text=True,
        check=True,
    )
    seat_check = json.loads(check.stdout)
    browse_rows = [row for key, row in rows.items() if key.startswith("GET ") and "(rush)" not in key]
    enroll_row = rows.get("POST POST /enrollments (rush)", {"requests": 0, "failures": 0})
    figures = server_figures(before, after, cache_enabled=True)
    print(
        f"  oversold courses: {seat_check['oversold']}, counter mismatches: {seat_check['counter_mismatches']}, "
        f"full: {seat_check['full']}/{len(popular)}",
        flush=True,
    )
    return {
        "enrollers": rush_users,
        "browsers": browsers,
        "seconds": seconds,
        "popular_courses": len(popular),
        "free_seats_before": seats,
        "browse": combine(browse_rows) if browse_rows else None,
        "enroll_requests": enroll_row["requests"],
        "enroll_failures": enroll_row["failures"],
        "all_failures": rows["Aggregated"]["failures"],
        "exceptions": rows["Aggregated"]["exceptions"],
        "cache_hit_rate": figures["cache_hit_rate"],
        "server_cpu_percent": figures["server_cpu_percent"],
        "seat_check": seat_check,
        "endpoints": rows,
    }


def machine() -> str:
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = ""
    with contextlib.suppress(OSError, IndexError, ValueError):
        kilobytes = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kilobytes / 1024 / 1024:.0f} GiB"
    return f"{os.cpu_count()} cores ({model}){memory}, Python {sys.version.split()[0]}"


def bench(defaults: dict[str, int], output_dir: Path, *, quick: bool) -> dict[str, Any]:
    names = [name.strip() for name in (os.environ.get("BENCH_CONFIGS") or ",".join(CONFIGURATIONS)).split(",") if name]
    unknown = set(names) - set(CONFIGURATIONS)
    if unknown:
        raise SystemExit(f"BENCH_CONFIGS: unknown {sorted(unknown)}; choose from {list(CONFIGURATIONS)}")
    semesters = semester_ids(setting(defaults, "BENCH_SEMESTERS"))
    started = time.monotonic()
    with running_stack(output_dir) as stack:
        dataset = seed_dataset(stack, defaults)
        stack.start_worker()
        configurations = {name: measure_configuration(stack, defaults, name) for name in names}
        peak = measure_peak(stack, defaults, semesters)
        rush = measure_rush(stack, defaults, semesters)
    return {
        "kind": "bench",
        "quick": quick,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "wall_seconds": time.monotonic() - started,
        "dataset": dataset,
        "scenario": {
            "users": setting(defaults, "BENCH_USERS"),
            "spawn_rate": setting(defaults, "BENCH_SPAWN_RATE"),
            "warmup_seconds": setting(defaults, "BENCH_WARMUP"),
            "measured_seconds": setting(defaults, "BENCH_DURATION"),
            "gunicorn_workers": os.environ.get("BENCH_GUNICORN_WORKERS") or "2 x cores + 1",
        },
        "configurations": configurations,
        "peak": peak,
        "rush": rush,
        "ports": {"dynamodb": stack.dynamodb_port, "cache": stack.cache_port, "broker": stack.broker_port},
    }


# --- make bench-scale ------------------------------------------------------------------------------


def timed_get(url: str, token: str) -> float:
    started = time.perf_counter()
    get_json(url, token)
    return (time.perf_counter() - started) * 1000


def scale(defaults: dict[str, int], output_dir: Path, *, quick: bool) -> dict[str, Any]:
    sizes = [
        int(size)
        for size in (os.environ.get("BENCH_SCALE_SIZES") or DEFAULT_SCALE_SIZES["quick" if quick else "full"]).split(
            ","
        )
    ]
    semesters = semester_ids(setting(defaults, "BENCH_SEMESTERS"))
    departments = setting(defaults, "BENCH_DEPARTMENTS")
    requests = max(1, setting(defaults, "BENCH_SCALE_REQUESTS"))
    baseline_requests = max(1, setting(defaults, "BENCH_SCALE_BASELINE_REQUESTS"))
    rng = random.Random(6)
    started = time.monotonic()
    rows = []
    with running_stack(output_dir) as stack:
        cached_server = stack.gunicorn(name="scale-cached", cache_enabled=True)
        uncached_server = stack.gunicorn(name="scale-uncached", cache_enabled=False)
        for courses in sorted(sizes):
            dataset = seed_dataset(stack, defaults, courses=courses)
            stack.flush_cache()
            token = sign_in(base_url(cached_server), "student1@demo.edu")
            paths = [
                f"/courses?semester_id={rng.choice(semesters)}"
                + (f"&department_id={rng.randint(1, departments)}" if rng.random() < 0.5 else "")
                for _ in range(20)
            ]
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
                time.sleep(1.0)  # the warm-up's counts are flushed before the measured ones start
                before = counters(stack)
                latencies = [timed_get(url + paths[number % len(paths)], token) for number in range(count)]
                time.sleep(1.0)
                after = counters(stack)
                served = max(1.0, after.get("requests", 0) - before.get("requests", 0))
                row[name] = {
                    "requests": count,
                    "average_ms": statistics.fmean(latencies),
                    "p50_ms": percentile(latencies, 0.5),
                    "p99_ms": percentile(latencies, 0.99),
                    "read_capacity_per_request": (after.get("read_capacity", 0) - before.get("read_capacity", 0))
                    / served,
                }
                print(
                    f"  {courses} courses, {name}: p50 {row[name]['p50_ms']:.1f} ms, "
                    f"avg {row[name]['average_ms']:.1f} ms, {row[name]['read_capacity_per_request']:.1f} RCU/request",
                    flush=True,
                )
            rows.append(row)
    return {
        "kind": "scale",
        "quick": quick,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "wall_seconds": time.monotonic() - started,
        "rows": rows,
    }


# --- Reports ---------------------------------------------------------------------------------------


def fmt_ms(value: float) -> str:
    return f"{value:,.1f} ms" if value < 100 else f"{value:,.0f} ms"


def fmt_ratio(baseline: float, value: float) -> str:
    if not value:
        return "n/a"
    return f"{baseline / value:,.0f}x" if baseline / value >= 10 else f"{baseline / value:,.1f}x"


def failures(figures: dict[str, Any]) -> str:
    exceptions = figures.get("exceptions", 0)
    return f"{figures['failures']}" + (f" (+{exceptions} locust exceptions)" if exceptions else "")


def bench_markdown(results: dict[str, Any]) -> str:
    configurations = results["configurations"]
    baseline = configurations.get("baseline")
    scenario, dataset = results["scenario"], results["dataset"]
    lines = [
        f"Measured {results['finished_at']} on {results['machine']}; load generator on the same machine.",
        f"Dataset: {dataset['courses']:,} courses over {dataset['semesters']} semesters and {dataset['departments']} "
        f"departments, {dataset['students']:,} students, {dataset['enrollments']:,} enrollments "
        f"(seeded in {dataset['seed_seconds']:.0f} s). Scenario: {scenario['users']} users spawned at "
        f"{scenario['spawn_rate']}/s, {scenario['warmup_seconds']} s of warm-up, then {scenario['measured_seconds']} s "
        f"measured; gunicorn "
        f"{scenario['gunicorn_workers']} sync workers.",
        "",
        "| configuration | avg | p50 | p95 | p99 | req/s | failures | cache hits | DynamoDB calls/req "
        "| RCU/req | server CPU | CPU ms/req |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, figures in configurations.items():
        hit_rate = figures["cache_hit_rate"]
        lines.append(
            f"| {name} | {fmt_ms(figures['average_ms'])} | {fmt_ms(figures['p50_ms'])} | {fmt_ms(figures['p95_ms'])} "
            f"| {fmt_ms(figures['p99_ms'])} | {figures['requests_per_second']:,.1f} | {failures(figures)} "
            f"| {'n/a' if hit_rate is None else f'{hit_rate:.2%}'} | {figures['dynamodb_calls_per_request']:.2f} "
            f"| {figures['read_capacity_per_request']:.2f} | {figures['server_cpu_percent']:.0f}% "
            f"| {figures['server_cpu_ms_per_request']:.2f} |"
        )
    if baseline:
        lines += [
            "",
            "Against the baseline (how many times better):",
            "",
            "| configuration | avg | p50 | p99 | req/s | RCU/req | RCU/req as % of baseline |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, figures in configurations.items():
            if name == "baseline":
                continue

            def better(key: str, figures: dict[str, Any] = figures) -> str:
                return fmt_ratio(baseline[key], figures[key])

            rcu_share = (
                f"{100 * figures['read_capacity_per_request'] / baseline['read_capacity_per_request']:.3f}%"
                if baseline["read_capacity_per_request"]
                else "n/a"
            )
            throughput = (
                figures["requests_per_second"] / baseline["requests_per_second"]
                if baseline["requests_per_second"]
                else 0
            )
            lines.append(
                f"| {name} | {better('average_ms')} | {better('p50_ms')} | {better('p99_ms')} "
                f"| {throughput:,.1f}x | {better('read_capacity_per_request')} | {rcu_share} |"
            )
    peak = results["peak"]
    lines += [
        "",
        f"Peak throughput, same gunicorn, closed loop with {peak['connections']} connections over "
        f"{peak['processes']} processes, {peak['seconds']} s for each endpoint "
        f"over {peak['rounds']} alternating rounds:",
        "",
        "| endpoint | req/s | p50 | p99 | errors | server CPU |",
        "|---|---|---|---|---|---|",
    ]
    for label, figures in peak["results"].items():
        lines.append(
            f"| {label} (`{figures['path']}`) | {figures['requests_per_second']:,.0f} | {fmt_ms(figures['p50_ms'])} "
            f"| {fmt_ms(figures['p99_ms'])} | {figures['errors']} | {figures['server_cpu_percent']:.0f}% |"
        )
    if peak["cached_over_bare"] is not None:
        lines.append(f"\nCached reads reach {peak['cached_over_bare']:.0%} of the bare Django endpoint's throughput.")
    rush = results["rush"]
    check = rush["seat_check"]
    browse = rush["browse"] or {}

    def browse_latency(key: str) -> str:
        return fmt_ms(browse.get(key, 0))

    rush_failures = failures({**rush, "failures": rush["all_failures"]})
    rush_hits = "n/a" if rush["cache_hit_rate"] is None else f"{rush['cache_hit_rate']:.2%}"
    counters_match = "yes" if check["counter_mismatches"] == 0 else f"{check['counter_mismatches']} mismatches"
    lines += [
        "",
        f"Registration rush: {rush['enrollers']} students enroll into {rush['popular_courses']} popular courses "
        f"({rush['free_seats_before']} free seats) while {rush['browsers']} browse, {rush['seconds']} s:",
        "",
        "| browse avg | browse p50* | browse p95* | browse p99* | browse req/s | cache hits | enroll requests "
        "| failures | courses full | oversold | counter = records |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        f"| {browse_latency('average_ms')} | {browse_latency('p50_ms')} | {browse_latency('p95_ms')} "
        f"| {browse_latency('p99_ms')} | {browse.get('requests_per_second', 0):,.0f} | {rush_hits} "
        f"| {rush['enroll_requests']} | {rush_failures} | {check['full']}/{rush['popular_courses']} "
        f"| {check['oversold']} | {counters_match} |",
        "",
        "\\* Locust reports percentiles per endpoint; these are their request-weighted mean over the browse "
        "endpoints, an approximation (each endpoint's own percentiles are in bench.json).",
    ]
    return "\n".join(lines) + "\n"


def scale_markdown(results: dict[str, Any]) -> str:
    lines = [
        f"Measured {results['finished_at']} on {results['machine']}; sequential requests, one at a time.",
        "",
        "| courses | seeded in | cached p50 | cached avg | uncached p50 | uncached avg | baseline p50 | baseline avg "
        "| baseline RCU/req | uncached RCU/req |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in results["rows"]:
        lines.append(
            f"| {row['courses']:,} | {row['seed_seconds']:.0f} s | {fmt_ms(row['cached']['p50_ms'])} "
            f"| {fmt_ms(row['cached']['average_ms'])} | {fmt_ms(row['uncached']['p50_ms'])} "
            f"| {fmt_ms(row['uncached']['average_ms'])} | {fmt_ms(row['baseline']['p50_ms'])} "
            f"| {fmt_ms(row['baseline']['average_ms'])} | {row['baseline']['read_capacity_per_request']:,.0f} "
            f"| {row['uncached']['read_capacity_per_request']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def bench_chart(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results["configurations"])
    figure, (latency_axis, throughput_axis) = plt.subplots(1, 2, figsize=(12, 4.5))
    width = 0.2
    for offset, key in enumerate(("average_ms", "p50_ms", "p95_ms", "p99_ms")):
        latency_axis.bar(
            [position + (offset - 1.5) * width for position in range(len(names))],
            [max(0.1, results["configurations"][name][key]) for name in names],
            width,
            label=key.removesuffix("_ms"),
        )
    latency_axis.set_yscale("log")
    latency_axis.set_xticks(range(len(names)), names)
    latency_axis.set_ylabel("latency (ms, log scale)")
    latency_axis.set_title(f"{results['scenario']['users']} users, registration week")
    latency_axis.legend()
    peak = results["peak"]["results"]
    labels = names + list(peak)
    values = [results["configurations"][name]["requests_per_second"] for name in names] + [
        figures["requests_per_second"] for figures in peak.values()
    ]
    throughput_axis.bar(range(len(labels)), values, color=["C0"] * len(names) + ["C3"] * len(peak))
    throughput_axis.set_xticks(range(len(labels)), [label.replace(" ", "\n", 1) for label in labels], fontsize=8)
    throughput_axis.set_ylabel("requests per second")
    throughput_axis.set_title("throughput (scenario; then closed-loop peak)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def scale_chart(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4.5))
    sizes = [row["courses"] for row in results["rows"]]
    for name in ("cached", "uncached", "baseline"):
        axis.plot(sizes, [row[name]["p50_ms"] for row in results["rows"]], marker="o", label=name)
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlabel("courses in the table")
    axis.set_ylabel("course list p50 (ms, log scale)")
    axis.set_title("Course list latency by catalogue size")
    axis.legend()
    axis.grid(True, which="both", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main() -> int:
    parser = argparse.ArgumentParser(description="The before/after benchmark on its own stack.")
    parser.add_argument("kind", choices=["bench", "scale"])
    parser.add_argument("--quick", action="store_true", help="Small sizes and short runs (a few minutes).")
    arguments = parser.parse_args()
    defaults = QUICK if arguments.quick else FULL
    output_dir = Path(os.environ.get("BENCH_OUTPUT_DIR") or ROOT / ".run" / "bench").resolve()
    output_dir.mkdir(parents=True, exist_ok=True)
    try:
        if arguments.kind == "bench":
            results = bench(defaults, output_dir, quick=arguments.quick)
            markdown = bench_markdown(results)
            bench_chart(results, output_dir / "bench.png")
        else:
            results = scale(defaults, output_dir, quick=arguments.quick)
            markdown = scale_markdown(results)
            scale_chart(results, output_dir / "scale.png")
    except KeyboardInterrupt:
        print("interrupted; the stack has been stopped", file=sys.stderr)
        return 130
    except (ServiceError, subprocess.CalledProcessError) as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 1
    (output_dir / f"{arguments.kind}.json").write_text(json.dumps(results, indent=2) + "\n")
    (output_dir / f"{arguments.kind}.md").write_text(markdown)
    print(
        f"\n{markdown}\nWritten to {output_dir} ({arguments.kind}.md, .json, .png; locust-*.html; logs/) "
        f"in {results['wall_seconds'] / 60:.1f} min."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
