"""The benchmark runner's bookkeeping, without running a benchmark: a full run rewrites only what lies
between its markers in docs/benchmarks.md, a quick one never writes it, and the runner's process
stays free of what would break locust."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from benchmarks import report
from benchmarks.endpoints import before_figures, enroll_p50_growth, key_endpoints
from benchmarks.report import (
    MarkerError,
    check_markers,
    docs_block,
    ensure_docs_file_has_markers,
    key_endpoint_lines,
    replace_between_markers,
    update_docs_file,
)
from benchmarks.rush import rush_phases
from benchmarks.variables import DOCS_FILE, BenchVariables
from devstack.services import ROOT

DOCS = """# Benchmarks

Hand-written introduction.

<!-- bench:start -->
old bench figures
<!-- bench:end -->

Hand-written analysis of the bench figures.

<!-- bench-scale:start -->
old scale figures
<!-- bench-scale:end -->

Hand-written closing words.
"""


def test_a_run_rewrites_only_what_lies_between_its_own_markers(tmp_path):
    docs = tmp_path / "benchmarks.md"
    docs.write_text(DOCS)

    update_docs_file(docs, "bench", "| new | bench | table |\n")

    assert docs.read_text() == DOCS.replace("old bench figures", "| new | bench | table |")


def test_the_scale_run_has_markers_of_its_own(tmp_path):
    docs = tmp_path / "benchmarks.md"
    docs.write_text(DOCS)

    update_docs_file(docs, "scale", "new scale figures")

    assert docs.read_text() == DOCS.replace("old scale figures", "new scale figures")


def test_rewriting_with_the_same_figures_changes_nothing():
    once = replace_between_markers(DOCS, "bench", "\nfigures\n\n")
    assert replace_between_markers(once, "bench", "figures") == once


def test_a_missing_marker_is_an_error_that_names_it_and_the_file_is_left_alone(tmp_path):
    docs = tmp_path / "benchmarks.md"
    without_end = DOCS.replace("<!-- bench:end -->\n", "")
    docs.write_text(without_end)

    with pytest.raises(MarkerError, match=r"benchmarks\.md: the marker <!-- bench:end --> is missing"):
        update_docs_file(docs, "bench", "new figures")
    with pytest.raises(MarkerError, match="<!-- bench:end --> is missing"):
        ensure_docs_file_has_markers(docs, "bench")
    assert docs.read_text() == without_end


def test_markers_twice_or_in_the_wrong_order_are_errors():
    with pytest.raises(MarkerError, match="<!-- bench:start --> appears 2 times"):
        check_markers(DOCS + "<!-- bench:start -->\n", "bench")
    swapped = DOCS.replace("<!-- bench:start -->", "@").replace("<!-- bench:end -->", "<!-- bench:start -->")
    with pytest.raises(MarkerError, match="<!-- bench:end --> comes before <!-- bench:start -->"):
        check_markers(swapped.replace("@", "<!-- bench:end -->"), "bench")


def test_a_missing_docs_file_is_an_error_before_the_run(tmp_path):
    with pytest.raises(MarkerError, match="does not exist"):
        ensure_docs_file_has_markers(tmp_path / "nowhere.md", "bench")


def test_docs_benchmarks_md_holds_both_blocks():
    text = (ROOT / "docs" / "benchmarks.md").read_text()
    check_markers(text, "bench")
    check_markers(text, "scale")


def test_the_block_says_how_long_the_run_took():
    bench = {"kind": "bench", "wall_seconds": 528, "dataset": {"seed_seconds": 25.2}}
    assert docs_block(bench, "| table |\n") == "`make bench` (8.8 min, of which 25 s seeding):\n\n| table |\n"
    assert docs_block({"kind": "scale", "wall_seconds": 246}, "| t |\n").startswith("`make bench-scale` (4.1 min):")


def test_only_a_full_run_writes_the_docs_and_bench_docs_file_chooses_or_skips(monkeypatch, tmp_path):
    monkeypatch.delenv("BENCH_DOCS_FILE", raising=False)
    assert BenchVariables(quick=False).docs_file() == DOCS_FILE == ROOT / "docs" / "benchmarks.md"
    assert BenchVariables(quick=True).docs_file() is None
    monkeypatch.setenv("BENCH_DOCS_FILE", "")  # what make exports for an unset variable
    assert BenchVariables(quick=False).docs_file() == DOCS_FILE
    monkeypatch.setenv("BENCH_DOCS_FILE", "off")
    assert BenchVariables(quick=False).docs_file() is None
    monkeypatch.setenv("BENCH_DOCS_FILE", str(tmp_path / "elsewhere.md"))
    assert BenchVariables(quick=False).docs_file() == tmp_path / "elsewhere.md"
    assert BenchVariables(quick=True).docs_file() is None


def test_the_semesters_are_the_demo_datasets():
    assert BenchVariables(quick=True).semester_ids()[:4] == [20261, 20262, 20263, 20271]


def test_the_runner_imports_neither_django_nor_boto3_nor_requests():
    """Locust's gevent must patch the standard library before these are imported."""
    forbidden = ("django", "boto3", "botocore", "requests", "celery")
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, benchmarks.run; "
            f"print(sorted({{name.split('.')[0] for name in sys.modules}} & set({forbidden!r})))",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert completed.stdout.strip() == "[]"


def locust_row(p50: float, p99: float) -> dict:
    return {"requests": 100, "failures": 0, "p50_ms": p50, "p99_ms": p99, "average_ms": p50 + 1}


def test_enroll_and_the_course_list_come_from_locusts_rows_and_compare_with_an_earlier_run(tmp_path):
    product = {
        "endpoints": {
            "POST POST /enrollments": locust_row(16, 45),
            "GET GET /courses?semester_id": locust_row(4, 20),
        }
    }
    earlier = tmp_path / "bench.json"
    earlier.write_text(
        json.dumps(
            {
                "finished_at": "2026-11-25T21:36:58+00:00",
                "configurations": {
                    "product": {
                        "endpoints": {
                            "POST POST /enrollments": locust_row(12, 40),
                            "GET GET /courses?semester_id": locust_row(4, 19),
                        }
                    }
                },
            }
        )
    )
    results = {"key_endpoints": key_endpoints(product), "before": before_figures(earlier)}

    assert results["key_endpoints"]["enroll"]["p50_ms"] == 16
    assert results["before"]["key_endpoints"]["course_list"]["p99_ms"] == 19
    assert enroll_p50_growth(results) == pytest.approx(4 / 3)
    lines = "\n".join(key_endpoint_lines(results))
    assert "| enroll (`POST /api/enrollments`) | 100 | 16.0 ms | 45.0 ms | 12.0 ms | 40.0 ms |" in lines
    assert "Enroll p50: 1.33x the earlier run's (within the budget of 1.33x)" in lines
    assert "No earlier run" in "\n".join(key_endpoint_lines({"key_endpoints": key_endpoints(product), "before": None}))
    with pytest.raises(SystemExit, match="does not exist"):
        before_figures(tmp_path / "nowhere.json")


def configuration_figures(p50: float, hit_rate: float | None) -> dict:
    return {
        "average_ms": p50 + 2,
        "p50_ms": p50,
        "p95_ms": p50 * 4,
        "p99_ms": p50 * 10,
        "requests_per_second": 180.0,
        "failures": 0,
        "exceptions": 0,
        "cache_hit_rate": hit_rate,
        "dynamodb_calls_per_request": 0.35,
        "read_capacity_per_request": 0.56,
        "server_cpu_percent": 80.0,
        "server_cpu_ms_per_request": 4.1,
    }


def test_every_table_of_the_bench_report_says_it_is_one_run(monkeypatch):
    # The peak's table belongs to benchmarks/servers.py's shape of the peak: left out of this one.
    monkeypatch.setattr(report, "peak_lines", lambda peak, **_: [])
    phases = rush_phases(
        [
            {"at": 1_000.0, "name": "POST POST /enrollments (rush)", "ms": 40, "status": 201, "code": None},
            {"at": 1_015.0, "name": "GET GET /courses?semester_id", "ms": 6, "status": 200, "code": None},
        ],
        opens_at=1_000.0,
    )
    results = {
        "finished_at": "2026-12-02T10:00:00+00:00",
        "machine": "2 cores",
        "dataset": {
            "courses": 10_000,
            "semesters": 10,
            "departments": 20,
            "students": 5_000,
            "enrollments": 20_000,
            "seed_seconds": 42,
        },
        "scenario": {
            "users": 200,
            "spawn_rate": 10,
            "warmup_seconds": 30,
            "measured_seconds": 60,
            "web_server": "granian",
        },
        "configurations": {
            "product": configuration_figures(7, 0.98),
            "uncached": configuration_figures(300, None),
            "baseline": configuration_figures(46_000, None),
        },
        "key_endpoints": {"enroll": locust_row(29, 150), "course_list": locust_row(6, 78)},
        "before": None,
        "peak": {},
        "rush": {
            **phases,
            "enrollers": 300,
            "browsers": 200,
            "seconds": 60,
            "popular_courses": 20,
            "free_seats_before": 356,
            "opens_at": "2026-12-01T12:00:00+00:00",
            "enroll_requests": 1500,
            "drop_requests": 40,
            "all_failures": 0,
            "exceptions": 0,
            "seat_check": {
                "oversold": 0,
                "counter_mismatches": 0,
                "full": 20,
                "waitlisted": 317,
                "promotions": 40,
                "skipped": 1,
                "promotion_lag_p50_ms": 56.1,
                "promotion_lag_p99_ms": 243.0,
                "promotion_lag_max_ms": 243.0,
                "out_of_order": 0,
                "unsettled": 0,
            },
        },
    }

    lines = report.bench_markdown(results).splitlines()

    tables = [number for number, line in enumerate(lines) if line.startswith("|---")]
    assert len(tables) == 6  # configurations, against the baseline, key endpoints, rush, its phases, waitlists
    for table in tables:
        caption = next(line for line in reversed(lines[: table - 1]) if line.strip() and not line.startswith("|"))
        assert "one run" in caption, f"the table under {caption!r} does not say how many runs it is"


def test_the_mix_s_cpu_is_set_against_bare_django_at_the_peak_and_under_the_mix_s_own_load():
    figures = {"requests_per_second": 4_000.0, "p50_ms": 4.0, "p99_ms": 20.0, "cpu_ms_per_request": 0.25, "errors": 0}
    peak = {
        "connections": 32,
        "threads": 2,
        "rounds": 3,
        "seconds_per_round": 15.0,
        "servers": {"granian": {"bare": figures, "cached course list": figures}},
        "fastest_bare_server": "granian",
        "fastest_cached_server": "granian",
        "product_is_fastest": True,
        "cached_over_fastest_bare": 1.0,
        "cached_over_bare_same_server": 1.0,
        "bare_cpu_ms_per_request": 0.25,
    }
    product = {"server_cpu_ms_per_request": 1.2}
    bare_at_mix_load = {"users": 200, "requests_per_second": 186.4, "server_cpu_ms_per_request": 0.48}

    both = "\n".join(report.peak_lines(peak, product=product, bare_at_mix_load=bare_at_mix_load))
    peak_only = "\n".join(report.peak_lines(peak, product=product))

    assert "1.20 ms of server CPU per request, 4.8x a bare Django request's at the peak (0.25 ms)" in both
    assert (
        "Under the mix's own load (200 users, 186 req/s), a bare Django request cost 0.48 ms: the mix cost 2.5x" in both
    )
    assert "4.8x a bare Django request's at the peak" in peak_only
    assert "mix's own load" not in peak_only
