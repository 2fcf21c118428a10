"""The key figures of several `make bench` runs in one Markdown table: each figure's median and range
over the runs, and every run's own value. Issue 15's targets are medians of three runs, and one run
says nothing of the spread.

    .venv/bin/python -m benchmarks.summary RUN1/bench.json RUN2/bench.json RUN3/bench.json

A directory stands for its bench.json. A figure a run's bench.json lacks (an older run: no rush
phases, no per-server peaks) prints n/a, and the median and range are then over the runs that have it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.rush_report import format_ms

BARE_LABEL = "bare Django JsonResponse"  # benchmarks/scenarios.py's and benchmarks/servers.py's peak row
CACHED_LABEL = "cached course list"
# The rush's first seconds, when a run does not say (benchmarks/rush.py's OPENING_SECONDS).
DEFAULT_OPENING_SECONDS = 10
# The rush's phases' CPU by process (benchmarks/server_figures.cpu_by_process), as the table names them.
RUSH_PROCESSES = (
    ("web", "the web server"),
    ("dynamodb_local", "DynamoDB Local"),
    ("workers", "the Celery workers"),
    ("everything_else", "everything else"),
)

# The first seconds' enrolls from first click to answer, and the steady state's browses after the
# burst's last refusal (benchmarks/rush.py).
TO_ANSWER = ("rush", "opening", "enroll_to_answer")
AFTER_REFUSALS = ("rush", "steady", "after_refusals")


@dataclass(frozen=True)
class KeyFigure:
    label: str
    read: Callable[[dict[str, Any]], float | None]
    format: Callable[[float], str]


def dig(data: Any, *keys: str) -> Any:
    """data[key][key]..., or None where a key is missing or a level is not a mapping."""
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def number(value: Any) -> float | None:
    """A figure, or None for anything that is not one (missing, null, text)."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    return numerator / denominator if numerator is not None and denominator else None


def format_percent(value: float) -> str:
    return f"{value:.2%}"


def format_whole_percent(value: float) -> str:
    return f"{value:.0%}"


def format_times(value: float) -> str:
    return f"{value:.1f}x"


def format_rate(value: float) -> str:
    return f"{value:,.0f}"


def format_count(value: float) -> str:
    return f"{value:g}"


def format_two_decimals(value: float) -> str:
    return f"{value:.2f}"


def product(run: dict[str, Any]) -> dict[str, Any]:
    return dig(run, "configurations", "product") or {}


def peak_cached_per_second(run: dict[str, Any]) -> float | None:
    """The product's cached course list at its peak."""
    return number(dig(run, "peak", "results", CACHED_LABEL, "requests_per_second"))


def peak_bare_per_second(run: dict[str, Any]) -> float | None:
    """Bare Django at its peak: the fastest server's where a run measured several, else the one's."""
    peak = dig(run, "peak") or {}
    fastest_server = str(peak.get("fastest_bare_server"))
    fastest = number(dig(peak, "servers", fastest_server, "bare", "requests_per_second"))
    return fastest if fastest is not None else number(dig(peak, "results", BARE_LABEL, "requests_per_second"))


def peak_cached_over_bare(run: dict[str, Any]) -> float | None:
    """The cached list's peak over bare Django's: the run's own ratio, else the two peaks'."""
    peak = dig(run, "peak") or {}
    for key in ("cached_over_fastest_bare", "cached_over_bare"):
        if number(peak.get(key)) is not None:
            return number(peak[key])
    return ratio(peak_cached_per_second(run), peak_bare_per_second(run))


def bare_cpu_ms_per_request(run: dict[str, Any]) -> float | None:
    """A bare Django request's server CPU at the peak: recorded as such by newer runs, worked out from
    the peak's CPU share and rate in older ones (a share of 100% is 1,000 ms of CPU a second)."""
    peak = dig(run, "peak") or {}
    recorded = number(peak.get("bare_cpu_ms_per_request"))
    if recorded is not None:
        return recorded
    bare = dig(peak, "results", BARE_LABEL) or {}
    recorded = number(bare.get("cpu_ms_per_request"))
    if recorded is not None:
        return recorded
    cpu_percent = number(bare.get("server_cpu_percent"))
    return ratio(10 * cpu_percent if cpu_percent is not None else None, number(bare.get("requests_per_second")))


def mix_cpu_over_bare(run: dict[str, Any]) -> float | None:
    return ratio(number(product(run).get("server_cpu_ms_per_request")), bare_cpu_ms_per_request(run))


def mix_cpu_over_bare_at_mix_load(run: dict[str, Any]) -> float | None:
    """Against a bare request under the mix's own load (runs since 2026-12-03 measure it)."""
    return ratio(
        number(product(run).get("server_cpu_ms_per_request")),
        number(dig(run, "bare_at_mix_load", "server_cpu_ms_per_request")),
    )


def reader(*keys: str) -> Callable[[dict[str, Any]], float | None]:
    return lambda run: number(dig(run, *keys))


def product_reader(key: str) -> Callable[[dict[str, Any]], float | None]:
    return lambda run: number(product(run).get(key))


def family_reader(family: str) -> Callable[[dict[str, Any]], float | None]:
    return lambda run: number(dig(product(run), "cache_hit_rate_by_family", family))


def key_figures(runs: Sequence[dict[str, Any]]) -> list[KeyFigure]:
    """Issue 15's figures, in its table's order; a hit rate row for every key family any run has."""
    families = sorted({family for run in runs for family in dig(product(run), "cache_hit_rate_by_family") or {}})
    opening = next(
        (int(seconds) for run in runs if (seconds := number(dig(run, "rush", "opening_seconds"))) is not None),
        DEFAULT_OPENING_SECONDS,
    )
    first_seconds = f"rush, first {opening} s"
    return [
        KeyFigure("registration-week mix: p50", product_reader("p50_ms"), format_ms),
        KeyFigure("registration-week mix: p99", product_reader("p99_ms"), format_ms),
        KeyFigure(
            "registration-week mix: cache hit rate (without user_auth)",
            product_reader("cache_hit_rate"),
            format_percent,
        ),
        *(
            KeyFigure(f"registration-week mix: hit rate, {family}", family_reader(family), format_percent)
            for family in families
        ),
        KeyFigure(
            "registration-week mix: server CPU ms per request",
            product_reader("server_cpu_ms_per_request"),
            format_two_decimals,
        ),
        KeyFigure("bare Django request at the peak: server CPU ms", bare_cpu_ms_per_request, format_two_decimals),
        KeyFigure(
            "registration-week mix: CPU per request / bare Django's at the peak", mix_cpu_over_bare, format_times
        ),
        KeyFigure(
            "bare Django request at the mix's load: server CPU ms",
            reader("bare_at_mix_load", "server_cpu_ms_per_request"),
            format_two_decimals,
        ),
        KeyFigure(
            "registration-week mix: CPU per request / bare Django's at the same load",
            mix_cpu_over_bare_at_mix_load,
            format_times,
        ),
        KeyFigure("peak: cached course list req/s", peak_cached_per_second, format_rate),
        KeyFigure("peak: bare Django req/s (fastest server)", peak_bare_per_second, format_rate),
        KeyFigure("peak: cached list / bare Django", peak_cached_over_bare, format_whole_percent),
        KeyFigure(
            "registration-week mix: DynamoDB read units per request",
            product_reader("read_capacity_per_request"),
            format_two_decimals,
        ),
        KeyFigure(f"{first_seconds}: enroll p50", reader("rush", "opening", "enroll", "p50_ms"), format_ms),
        KeyFigure(f"{first_seconds}: enroll p99", reader("rush", "opening", "enroll", "p99_ms"), format_ms),
        *(
            KeyFigure(f"{first_seconds}: enroll, first click to answer {p}", reader(*TO_ANSWER, f"{p}_ms"), format_ms)
            for p in ("p50", "p99")
        ),
        KeyFigure(f"{first_seconds}: enrolls refused busy", reader("rush", "opening", "enrolls_refused"), format_count),
        KeyFigure(f"{first_seconds}: browse p50", reader("rush", "opening", "browse", "p50_ms"), format_ms),
        KeyFigure(f"{first_seconds}: browse p99", reader("rush", "opening", "browse", "p99_ms"), format_ms),
        KeyFigure(f"{first_seconds}: 5xx", reader("rush", "opening", "server_errors"), format_count),
        KeyFigure("rush, steady state: browse p50", reader("rush", "steady", "browse", "p50_ms"), format_ms),
        KeyFigure("rush, steady state: browse p99", reader("rush", "steady", "browse", "p99_ms"), format_ms),
        KeyFigure(
            "rush: last refusal (s after the opening)", reader(*AFTER_REFUSALS, "refused_until_seconds"), format_count
        ),
        KeyFigure("rush, steady state after it: browse p99", reader(*AFTER_REFUSALS, "p99_ms"), format_ms),
        KeyFigure(
            f"{first_seconds}: browse p99 outside locust", reader("rush", "opening", "probe", "p99_ms"), format_ms
        ),
        KeyFigure(
            "rush, steady state: browse p99 outside locust", reader("rush", "steady", "probe", "p99_ms"), format_ms
        ),
        KeyFigure(
            "rush, steady state: cache hit rate", reader("rush", "steady", "server", "cache_hit_rate"), format_percent
        ),
        KeyFigure("rush, steady state: 5xx", reader("rush", "steady", "server_errors"), format_count),
        KeyFigure("rush: oversold courses", reader("rush", "seat_check", "oversold"), format_count),
        *(
            KeyFigure(
                f"{label}: CPU of {name} (percent of one core)",
                reader("rush", phase, "server", "cpu_percent_by_process", process),
                format_count,
            )
            for phase, label in (("opening", first_seconds), ("steady", "rush, steady state"))
            for process, name in RUSH_PROCESSES
        ),
    ]


def summary_row(figure: KeyFigure, runs: Sequence[dict[str, Any]]) -> str:
    values = [figure.read(run) for run in runs]
    known = [value for value in values if value is not None]
    if known:
        median = figure.format(statistics.median(known))
        if len(known) < len(values):
            median += f" ({len(known)} of {len(values)} runs)"
        spread = f"{figure.format(min(known))} to {figure.format(max(known))}"
    else:
        median = spread = "n/a"
    each = " | ".join("n/a" if value is None else figure.format(value) for value in values)
    return f"| {figure.label} | {median} | {spread} | {each} |"


def summary_markdown(runs: Sequence[dict[str, Any]], sources: Sequence[str]) -> str:
    """The table of key figures over `runs` (bench.json contents), read from `sources`."""
    count = len(runs)
    lines = [
        f"{count} run{'s' if count != 1 else ''} of `make bench`: each figure's median, its range (lowest to "
        "highest) and every run's value; n/a where a run's bench.json lacks the figure.",
        "",
        "| figure | median | range | " + " | ".join(f"run {number}" for number in range(1, count + 1)) + " |",
        "|---|---|---|" + "---|" * count,
        *(summary_row(figure, runs) for figure in key_figures(runs)),
        "",
    ]
    for position, (run, source) in enumerate(zip(runs, sources, strict=True), start=1):
        lines.append(
            f"- run {position}: `{source}`, finished {run.get('finished_at', 'n/a')} on {run.get('machine', 'n/a')}"
        )
    return "\n".join(lines) + "\n"


def read_run(path: Path) -> dict[str, Any]:
    """A run's bench.json (a directory stands for the bench.json in it); SystemExit if unreadable."""
    if path.is_dir():
        path = path / "bench.json"
    try:
        run = json.loads(path.read_text())
    except FileNotFoundError:
        raise SystemExit(f"{path} does not exist") from None
    except ValueError as error:
        raise SystemExit(f"{path} is not JSON ({error})") from None
    if not isinstance(run, dict):
        raise SystemExit(f"{path} does not hold a bench.json's results")
    return run


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The key figures of several `make bench` runs, with their spread.")
    parser.add_argument("runs", nargs="+", type=Path, help="each run's bench.json (or the directory holding it)")
    arguments = parser.parse_args(argv)
    runs = [read_run(path) for path in arguments.runs]
    sys.stdout.write(summary_markdown(runs, [str(path) for path in arguments.runs]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
