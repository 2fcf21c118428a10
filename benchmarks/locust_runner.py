"""Locust, run headless as a subprocess (its gevent must patch the standard library before anything
else is imported, so never in the runner's process), and what its CSV reports say."""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.server_figures import Snapshot, snapshot
from benchmarks.stack import BenchStack, base_url
from devstack.services import ROOT, VENV_BIN, ManagedProcess, ServiceError


@dataclass
class LocustRun:
    locustfile: str
    user_classes: list[str]
    users: int
    spawn_rate: int
    seconds: int
    # Measure from the moment locust resets its statistics, BENCH_WARMUP s after the last user spawned.
    reset_after_spawn: bool
    cache_enabled: bool
    env: dict[str, str]


def run_locust(
    stack: BenchStack, server: ManagedProcess, *, name: str, run: LocustRun
) -> tuple[dict[str, dict[str, Any]], Snapshot, Snapshot]:
    """Runs locust against `server`; the server's snapshots cover the same window as its statistics."""
    prefix = stack.output_dir / f"locust-{name}"
    marker = stack.output_dir / f".spawned-{name}"
    marker.unlink(missing_ok=True)
    processes = stack.variables.integer("BENCH_LOCUST_PROCESSES")
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
    stack.start_service(locust)
    try:
        if run.reset_after_spawn:
            deadline = time.monotonic() + run.seconds + 60
            while not marker.exists() and locust.is_running() and time.monotonic() < deadline:
                time.sleep(0.2)
        before = snapshot(stack, server, cache_enabled=run.cache_enabled)
        locust.process.wait(timeout=run.seconds + 300)
        after = snapshot(stack, server, cache_enabled=run.cache_enabled)
    finally:
        stack.stop_service(locust)
    if locust.process.returncode not in (0, 1):  # 1: the run had failed requests, reported below
        raise ServiceError(f"locust ({name}) exited with {locust.process.returncode}:\n{locust.log_tail()}")
    rows = read_locust_csv(prefix)
    # Exceptions inside a simulated user (a bug in a locustfile) are not request failures; count them too.
    with prefix.with_name(prefix.name + "_exceptions.csv").open() as file:
        rows["Aggregated"]["exceptions"] = sum(int(row["Count"]) for row in csv.DictReader(file))
    return rows, before, after


def read_locust_csv(prefix: Path) -> dict[str, dict[str, Any]]:
    """Locust's statistics by endpoint ("GET /api/courses", ...) and in total ("Aggregated")."""
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
