"""The BENCH_* environment variables of `make bench`, `make bench-scale` and `make bench-quick`, read
here and nowhere else in the runner, with their defaults for a full run and for a quick one.
docs/benchmarks.md documents each of them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from demo.calendar import bench_semester_ids
from devstack.services import ROOT

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
    # Per endpoint and candidate server, over the rounds (benchmarks/servers.py).
    "BENCH_PEAK_SECONDS": 15,
    "BENCH_PEAK_CONNECTIONS": 32,
    "BENCH_PEAK_PROCESSES": 2,
    "BENCH_PEAK_ROUNDS": 3,
    "BENCH_RUSH_USERS": 300,
    "BENCH_RUSH_BROWSERS": 200,
    "BENCH_RUSH_SPAWN_RATE": 20,
    "BENCH_RUSH_SECONDS": 60,
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
    "BENCH_PEAK_SECONDS": 6,
    "BENCH_RUSH_USERS": 60,
    "BENCH_RUSH_BROWSERS": 40,
    "BENCH_RUSH_SECONDS": 30,
    "BENCH_SCALE_REQUESTS": 50,
    "BENCH_SCALE_BASELINE_REQUESTS": 3,
}
SCALE_SIZES = {"full": "1000,10000,100000", "quick": "300,1000,3000"}
DOCS_FILE = ROOT / "docs" / "benchmarks.md"
# BENCH_DOCS_FILE=off: a full run leaves docs/benchmarks.md alone (another machine, a trial run).
DOCS_FILE_OFF = "off"
# Where a full make bench writes its cost and capacity table (benchmarks/cost_model.py).
COST_DOCS_FILE = ROOT / "docs" / "deploy.md"


@dataclass(frozen=True)
class BenchVariables:
    """The variables of one run; `quick` picks the small defaults (make bench-quick)."""

    quick: bool

    def integer(self, name: str) -> int:
        raw = os.environ.get(name, "")
        if not raw:
            return (QUICK if self.quick else FULL)[name]
        try:
            value = int(raw)
        except ValueError:
            raise SystemExit(f"{name} must be an integer, not {raw!r}") from None
        if value < 0:
            raise SystemExit(f"{name} must be 0 or more, not {value}")
        return value

    def semester_ids(self) -> list[int]:
        """The seeded semesters: fixed ids (seed_demo --first-semester), every window open (--all-open)."""
        return bench_semester_ids(self.integer("BENCH_SEMESTERS"))

    def configuration_names(self, known: Sequence[str]) -> list[str]:
        """BENCH_CONFIGS: which of the `known` configurations to run, in the order given."""
        names = [name.strip() for name in (os.environ.get("BENCH_CONFIGS") or ",".join(known)).split(",") if name]
        unknown = set(names) - set(known)
        if unknown:
            raise SystemExit(f"BENCH_CONFIGS: unknown {sorted(unknown)}; choose from {list(known)}")
        return names

    def scale_sizes(self) -> list[int]:
        raw = os.environ.get("BENCH_SCALE_SIZES") or SCALE_SIZES["quick" if self.quick else "full"]
        try:
            return sorted(int(size) for size in raw.split(","))
        except ValueError:
            raise SystemExit(f"BENCH_SCALE_SIZES must be comma-separated integers, not {raw!r}") from None

    def web_server_env(self) -> dict[str, str]:
        """The web server's settings the BENCH_WEB_* variables override (courseproject/serve.py's
        defaults otherwise): BENCH_WEB_SERVER, BENCH_WEB_WORKERS, BENCH_WEB_THREADS."""
        env = {
            name.removeprefix("BENCH_"): os.environ[name]
            for name in ("BENCH_WEB_SERVER", "BENCH_WEB_WORKERS", "BENCH_WEB_THREADS")
            if os.environ.get(name)
        }
        if "WEB_WORKERS" in env:
            env["GUNICORN_WORKERS"] = env["WEB_WORKERS"]
        return env

    def peak_servers(self) -> str:
        """BENCH_PEAK_SERVERS: "all" candidates (default) or only the "product"'s server."""
        value = os.environ.get("BENCH_PEAK_SERVERS", "all").strip().lower() or "all"
        if value not in {"all", "product"}:
            raise SystemExit(f"BENCH_PEAK_SERVERS must be all or product, not {value!r}")
        return value

    def web_server_description(self) -> str:
        env = self.web_server_env()
        if env.get("WEB_SERVER") == "gunicorn":
            return f"gunicorn, {env.get('WEB_WORKERS', '2 x cores + 1')} sync workers"
        return f"granian, {env.get('WEB_WORKERS', 'one process per core')} x {env.get('WEB_THREADS', '8')} threads"

    def before_json(self) -> Path | None:
        """BENCH_BEFORE_JSON: an earlier run's bench.json whose enroll and course-list figures this
        run's report sets beside its own (none by default)."""
        raw = os.environ.get("BENCH_BEFORE_JSON", "")
        return Path(raw).resolve() if raw else None

    def output_dir(self) -> Path:
        return Path(os.environ.get("BENCH_OUTPUT_DIR") or ROOT / ".run" / "bench").resolve()

    def docs_file(self) -> Path | None:
        """Where a full run writes its figures between the markers; quick runs never write them."""
        raw = os.environ.get("BENCH_DOCS_FILE", "")
        if self.quick or raw == DOCS_FILE_OFF:
            return None
        return Path(raw).resolve() if raw else DOCS_FILE

    def cost_docs_file(self) -> Path | None:
        """Where a full run writes its cost table: docs/deploy.md whenever it writes the figures
        (BENCH_DOCS_FILE=off and quick runs write neither)."""
        return None if self.docs_file() is None else COST_DOCS_FILE
