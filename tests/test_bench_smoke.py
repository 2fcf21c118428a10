"""The benchmark pipeline end to end at a tiny size, so it cannot rot: `benchmarks.run bench` in a
subprocess (locust's gevent must never be imported into this process), then its outputs are read.

Only the shape and the correctness checks are asserted; timings on a shared CI machine are not.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from devstack.services import ROOT, port_is_open

# Every BENCH_* variable the Makefile names: it exports them all to the runner, empty when unset.
MAKEFILE_EXPORTS = re.compile(r"\b(BENCH_[A-Z_]+)\b")
TINY = {
    "BENCH_COURSES": "120",
    "BENCH_SEMESTERS": "2",
    "BENCH_DEPARTMENTS": "4",
    "BENCH_STUDENTS": "60",
    "BENCH_ENROLLMENTS": "150",
    "BENCH_USERS": "6",
    "BENCH_SPAWN_RATE": "6",
    "BENCH_DURATION": "3",
    "BENCH_PEAK_SECONDS": "2",
    "BENCH_PEAK_ROUNDS": "1",
    "BENCH_PEAK_CONNECTIONS": "4",
    "BENCH_RUSH_USERS": "10",
    "BENCH_RUSH_BROWSERS": "4",
    "BENCH_RUSH_SPAWN_RATE": "14",
    "BENCH_RUSH_SECONDS": "6",
    "BENCH_RUSH_COURSES": "5",
    "BENCH_WEB_WORKERS": "2",
    "BENCH_BASELINE_EMAIL_SECONDS": "0.05",
}


@pytest.mark.e2e
@pytest.mark.timeout(600)
def test_the_benchmark_runs_end_to_end_and_reports_every_configuration(tmp_path: Path) -> None:
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("BENCH_", "DJANGO_SETTINGS_MODULE"))
    }
    # A quick run never writes the figures into the docs, not even into a docs file it is given.
    docs = tmp_path / "benchmarks.md"
    docs.write_text((ROOT / "docs" / "benchmarks.md").read_text())
    # As `make bench` runs it: make exports every BENCH_* variable it names, empty when unset.
    exported_empty = dict.fromkeys(MAKEFILE_EXPORTS.findall((ROOT / "Makefile").read_text()), "")
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "bench", "--quick"],
        cwd=ROOT,
        env={
            **environment,
            **exported_empty,
            **TINY,
            "BENCH_OUTPUT_DIR": str(tmp_path),
            "BENCH_DOCS_FILE": str(docs),
        },
        capture_output=True,
        text=True,
        timeout=580,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]

    results = json.loads((tmp_path / "bench.json").read_text())
    assert set(results["configurations"]) == {"product", "uncached", "baseline"}
    for name, figures in results["configurations"].items():
        assert figures["requests"] > 0, name
        assert figures["failures"] == 0, (name, figures["endpoints"])
        assert figures["exceptions"] == 0, name
        assert (tmp_path / f"locust-{name}.html").stat().st_size > 0
    configurations = results["configurations"]
    # The baseline reads with Scans, the product never does.
    assert configurations["baseline"]["dynamodb_calls_by_operation_per_request"].get("Scan", 0) > 0
    assert "Scan" not in configurations["product"]["dynamodb_calls_by_operation_per_request"]
    assert "Scan" not in configurations["uncached"]["dynamodb_calls_by_operation_per_request"]
    assert configurations["product"]["cache_hit_rate"] is not None
    # Every web process counted its requests' CPU by route (benchmarks/instrumentation.py).
    assert configurations["product"]["cpu_by_route"] and configurations["product"]["django_cpu_ms_per_request"] > 0
    assert configurations["uncached"]["cache_hit_rate"] is None

    assert_bare_at_mix_load(results["bare_at_mix_load"], tmp_path / "bench.md")
    assert results["peak"]["results"]["bare Django JsonResponse"]["requests"] > 0
    assert results["peak"]["results"]["cached course list"]["requests"] > 0
    # Every candidate web server served both endpoints without an error, the product's among them.
    servers = results["peak"]["servers"]
    assert len(servers) == 4 and results["peak"]["product_server"] in servers
    for name, figures in servers.items():
        for endpoint in ("bare", "cached course list"):
            assert figures[endpoint]["requests"] > 0 and figures[endpoint]["errors"] == 0, (name, endpoint)
    assert results["peak"]["cached_over_fastest_bare"] > 0
    rush = results["rush"]
    assert rush["enroll_requests"] > 0
    assert rush["exceptions"] == 0
    # Each enroller has each of its courses answered once (a refusal is sent again until it is):
    # none is replaced by a new user mid-run.
    assert rush["enroll_requests"] <= int(TINY["BENCH_RUSH_USERS"]) * int(TINY["BENCH_RUSH_COURSES"])
    assert rush["enroll_answers"].get("429 writes_busy", 0) == rush["enrolls_refused"]
    assert rush["seat_check"]["ok"], rush["seat_check"]
    assert rush["seat_check"]["oversold"] == 0
    # The enrollers waited for the opening: none was refused for it, none fired before it.
    assert rush["enrolls_before_opening"] == 0
    assert "409 registration_closed" not in rush["enroll_answers"]
    assert rush["opening"]["enroll"]["requests"] > 0
    assert rush["opening"]["server_errors"] == rush["steady"]["server_errors"] == 0
    # The phase's CPU by process is counted from the processes themselves (this rush is all opening):
    # its enrolls kept the web server and DynamoDB Local busy, and the workers sent their emails.
    opening_cpu = rush["opening"]["server"]["cpu_percent_by_process"]
    assert opening_cpu["web"] > 0 and opening_cpu["dynamodb_local"] > 0 and opening_cpu["workers"] > 0
    assert set(results["key_endpoints"]) == {"enroll", "course_list"}

    markdown = (tmp_path / "bench.md").read_text()
    assert "| product |" in markdown and "| baseline |" in markdown
    assert "Registration rush" in markdown
    assert "Enroll and the cached course list" in markdown and "| first 10 s |" in markdown
    # The probe browsed from outside locust (the line is left out when it measured nothing).
    assert "Where the cores went in each phase" in markdown and "Browse p50 / p99 from outside locust" in markdown
    assert (tmp_path / "bench.png").read_bytes().startswith(b"\x89PNG")
    assert markdown.strip() in completed.stdout
    assert docs.read_text() == (ROOT / "docs" / "benchmarks.md").read_text()
    # Every service the run started has been stopped.
    for service, port in results["ports"].items():
        assert not port_is_open(port), f"{service} still listens on {port}"


def assert_bare_at_mix_load(bare: dict, report: Path) -> None:
    """Bare Django under the product mix's own load: its users, near its request rate, and the report's
    line on it, left out when the tiny run's bare requests fit in one CPU clock tick (no ratio against 0)."""
    assert bare["users"] == int(TINY["BENCH_USERS"])
    assert bare["requests"] > 0 and bare["failures"] == 0
    # The process CPU clock ticks every 10 ms, and this tiny run's dozen or so bare requests may all fit
    # in one tick: the figure can be 0 here (it was, once, in make test), never negative or absurd.
    assert bare["server_requests"] > 0 and 0 <= bare["server_cpu_ms_per_request"] < 1000
    assert bare["requests_per_second"] <= 1.5 * bare["target_requests_per_second"]
    assert ("Under the mix's own load" in report.read_text()) == (bare["server_cpu_ms_per_request"] > 0)
