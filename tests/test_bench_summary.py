"""benchmarks.summary: several runs' bench.json as one table of key figures, each with its median,
its range and every run's value; figures a run lacks are n/a, never an error."""

from __future__ import annotations

import json

import pytest

from benchmarks.summary import main, summary_markdown


def bench_run(
    *, p50: float, p99: float, hit_rate: float, cpu_ms: float, steady_p99: float, steady_hits: float | None
) -> dict:
    """A bench.json of the current shape, with only what the summary reads."""
    steady_server = {} if steady_hits is None else {"server": {"cache_hit_rate": steady_hits}}
    return {
        "finished_at": "2026-12-02T10:00:00+00:00",
        "machine": "2 cores",
        "configurations": {
            "product": {
                "p50_ms": p50,
                "p99_ms": p99,
                "cache_hit_rate": hit_rate,
                "cache_hit_rate_by_family": {"course_list": hit_rate - 0.1, "user_auth": 1.0},
                "server_cpu_ms_per_request": cpu_ms,
                "read_capacity_per_request": 0.3,
            }
        },
        "peak": {
            "servers": {
                "gunicorn": {"bare": {"requests_per_second": 2_000.0}},
                "granian": {"bare": {"requests_per_second": 4_000.0}},
            },
            "fastest_bare_server": "granian",
            "bare_cpu_ms_per_request": 0.5,
            "cached_over_fastest_bare": 0.6,
            "results": {
                "cached course list": {"requests_per_second": 2_400.0},
                "bare Django JsonResponse": {"requests_per_second": 2_000.0},
            },
        },
        "rush": {
            "opening_seconds": 10,
            "opening": {
                "enroll": {"p50_ms": 900.0, "p99_ms": 2_000.0},
                "browse": {"p50_ms": 40.0, "p99_ms": 400.0},
                "server_errors": 0,
            },
            "steady": {"browse": {"p50_ms": 4.0, "p99_ms": steady_p99}, "server_errors": 0, **steady_server},
            "seat_check": {"oversold": 0},
        },
    }


RUNS = [
    bench_run(p50=5.0, p99=43.0, hit_rate=0.991, cpu_ms=1.5, steady_p99=45.0, steady_hits=0.985),
    bench_run(p50=4.0, p99=62.0, hit_rate=0.993, cpu_ms=1.2, steady_p99=38.0, steady_hits=0.99),
    bench_run(p50=6.0, p99=26.0, hit_rate=0.990, cpu_ms=1.8, steady_p99=51.0, steady_hits=None),
]


def row(markdown: str, figure: str) -> str:
    return next(line for line in markdown.splitlines() if line.startswith(f"| {figure} |"))


def test_the_summary_says_how_many_runs_it_summarizes():
    markdown = summary_markdown(RUNS, ["a/bench.json", "b/bench.json", "c/bench.json"])

    assert markdown.startswith("3 runs of `make bench`: each figure's median, its range")
    assert "| figure | median | range | run 1 | run 2 | run 3 |" in markdown
    assert "- run 2: `b/bench.json`, finished 2026-12-02T10:00:00+00:00 on 2 cores" in markdown


def test_each_figure_has_its_median_its_range_and_every_runs_value():
    markdown = summary_markdown(RUNS, ["a", "b", "c"])

    assert row(markdown, "registration-week mix: p50") == (
        "| registration-week mix: p50 | 5.0 ms | 4.0 ms to 6.0 ms | 5.0 ms | 4.0 ms | 6.0 ms |"
    )
    assert row(markdown, "registration-week mix: p99").split(" | ")[1:3] == ["43.0 ms", "26.0 ms to 62.0 ms"]
    assert row(markdown, "registration-week mix: cache hit rate (without user_auth)").split(" | ")[1] == "99.10%"
    assert row(markdown, "registration-week mix: hit rate, course_list").split(" | ")[1] == "89.10%"
    assert row(markdown, "rush, steady state: browse p99").split(" | ")[1:3] == ["45.0 ms", "38.0 ms to 51.0 ms"]
    assert row(markdown, "rush, first 10 s: enroll p99").split(" | ")[1] == "2,000 ms"


def test_cpu_and_peak_are_set_against_the_fastest_bare_django():
    markdown = summary_markdown(RUNS, ["a", "b", "c"])

    # 1.5 ms of CPU per request against a bare request's 0.5 ms.
    assert row(markdown, "registration-week mix: CPU per request / bare Django's at the peak").split(" | ")[1] == "3.0x"
    assert row(markdown, "peak: bare Django req/s (fastest server)").split(" | ")[1] == "4,000"
    assert row(markdown, "peak: cached list / bare Django").split(" | ")[1] == "60%"


def test_cpu_is_also_set_against_bare_django_under_the_mix_s_own_load():
    runs = [
        {**run, "bare_at_mix_load": {"server_cpu_ms_per_request": bare_ms}}
        for run, bare_ms in zip(RUNS, (0.5, 0.6, 0.45), strict=True)
    ]
    runs.append(RUNS[0])  # an older run, without the measurement

    markdown = summary_markdown(runs, ["a", "b", "c", "d"])

    assert row(markdown, "bare Django request at the mix's load: server CPU ms").split(" | ")[1:3] == [
        "0.50 (3 of 4 runs)",
        "0.45 to 0.60",
    ]
    # 1.5 / 0.5, 1.2 / 0.6 and 1.8 / 0.45; n/a for the run without it.
    assert row(markdown, "registration-week mix: CPU per request / bare Django's at the same load").split(" | ")[
        1:
    ] == ["3.0x (3 of 4 runs)", "2.0x to 4.0x", "3.0x", "2.0x", "4.0x", "n/a |"]


def test_a_figure_some_runs_lack_is_n_a_there_and_its_median_says_over_how_many():
    markdown = summary_markdown(RUNS, ["a", "b", "c"])

    assert row(markdown, "rush, steady state: cache hit rate") == (
        "| rush, steady state: cache hit rate | 98.75% (2 of 3 runs) | 98.50% to 99.00% | 98.50% | 99.00% | n/a |"
    )


def test_an_older_bench_json_gives_n_a_for_what_it_lacks_and_works_out_bare_cpu_from_the_peak():
    older = {
        "configurations": {"product": {"p50_ms": 9.0, "server_cpu_ms_per_request": 4.4}},
        "peak": {
            "cached_over_bare": 0.41,
            "results": {
                "cached course list": {"requests_per_second": 1_000.0},
                # 170% of a core at 2,500 requests a second: 0.68 ms of CPU per request.
                "bare Django JsonResponse": {"requests_per_second": 2_500.0, "server_cpu_percent": 170.0},
            },
        },
        "rush": {"browse": {"p99_ms": 5_000.0}, "seat_check": {}},
    }

    markdown = summary_markdown([older], ["old/bench.json"])

    assert markdown.startswith("1 run of `make bench`")
    assert (
        row(markdown, "registration-week mix: p50")
        == "| registration-week mix: p50 | 9.0 ms | 9.0 ms to 9.0 ms | 9.0 ms |"
    )
    assert row(markdown, "bare Django request at the peak: server CPU ms").split(" | ")[1] == "0.68"
    assert row(markdown, "peak: bare Django req/s (fastest server)").split(" | ")[1] == "2,500"
    assert row(markdown, "peak: cached list / bare Django").split(" | ")[1] == "41%"
    assert row(markdown, "rush, steady state: browse p99") == "| rush, steady state: browse p99 | n/a | n/a | n/a |"
    assert row(markdown, "rush: oversold courses").endswith("| n/a | n/a | n/a |")


def test_the_command_reads_each_runs_bench_json_or_its_directory(tmp_path, capsys):
    for name, run in zip(("one", "two"), RUNS, strict=False):
        (tmp_path / name).mkdir()
        (tmp_path / name / "bench.json").write_text(json.dumps(run))

    assert main([str(tmp_path / "one" / "bench.json"), str(tmp_path / "two")]) == 0

    printed = capsys.readouterr().out
    assert printed.startswith("2 runs of `make bench`")
    assert "| registration-week mix: p50 | 4.5 ms | 4.0 ms to 5.0 ms | 5.0 ms | 4.0 ms |" in printed


def test_a_missing_or_broken_bench_json_stops_the_command_with_its_name(tmp_path):
    broken = tmp_path / "bench.json"
    broken.write_text("{not json")

    with pytest.raises(SystemExit, match=r"nowhere\.json does not exist"):
        main([str(tmp_path / "nowhere.json")])
    with pytest.raises(SystemExit, match=r"bench\.json is not JSON"):
        main([str(broken)])
