"""What a run leaves behind: the Markdown tables (printed, and written to bench.md or scale.md), the
results as JSON, and the figures in docs/benchmarks.md, rewritten between their markers so that the
hand-written text around them survives the next run. The charts are benchmarks/charts.py's.

    <!-- bench:start -->  ... make bench's figures ...        <!-- bench:end -->
    <!-- bench-scale:start -->  ... make bench-scale's ...    <!-- bench-scale:end -->
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from benchmarks.cpu_report import peak_lines, route_cpu_lines
from benchmarks.endpoints import ENROLL_P50_BUDGET, KEY_ENDPOINTS, enroll_p50_growth
from benchmarks.rush_report import format_failures, format_ms, measured_ms, rush_lines

# The marker block of each kind of run, named after its make target.
MARKER_NAMES = {"bench": "bench", "scale": "bench-scale"}
# Every table of a run's report is that one run; benchmarks/summary.py gives several runs' spread.
ONE_RUN_NOTE = (
    "Every table below is this one run, without a spread: `python -m benchmarks.summary DIR/bench.json ...` "
    "gives the median and range of several runs."
)


class MarkerError(ValueError):
    """The docs file lacks a run's markers, or holds them twice or in the wrong order."""


def machine_description() -> str:
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


def write_results(output_dir: Path, results: dict[str, Any], markdown: str) -> None:
    """<kind>.json and <kind>.md in the output directory."""
    (output_dir / f"{results['kind']}.json").write_text(json.dumps(results, indent=2) + "\n")
    (output_dir / f"{results['kind']}.md").write_text(markdown)


def docs_block(results: dict[str, Any], markdown: str) -> str:
    """What goes between a run's markers: how long it took, then its Markdown."""
    minutes = results["wall_seconds"] / 60
    if results["kind"] == "bench":
        heading = f"`make bench` ({minutes:.1f} min, of which {results['dataset']['seed_seconds']:.0f} s seeding):"
    else:
        heading = f"`make bench-scale` ({minutes:.1f} min):"
    return f"{heading}\n\n{markdown}"


def markers(kind: str) -> tuple[str, str]:
    name = MARKER_NAMES[kind]
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def check_markers(text: str, kind: str) -> tuple[int, int]:
    """Where the block of `kind` starts and ends in `text`; MarkerError if its markers are not there
    exactly once each, in order."""
    return check_marker_pair(text, *markers(kind))


def check_marker_pair(text: str, start: str, end: str) -> tuple[int, int]:
    """Where the block between `start` and `end` starts and ends in `text` (any file's markers)."""
    for marker in (start, end):
        if text.count(marker) != 1:
            found = "is missing" if marker not in text else f"appears {text.count(marker)} times"
            raise MarkerError(
                f"the marker {marker} {found}; the figures go between {start} and {end}, each on a line of its own"
            )
    if text.index(start) > text.index(end):
        raise MarkerError(f"{end} comes before {start}")
    return text.index(start) + len(start), text.index(end)


def replace_between_markers(text: str, kind: str, block: str) -> str:
    """`text` with what lies between the markers of `kind` replaced by `block`; the rest unchanged."""
    return replace_between(text, *markers(kind), block)


def replace_between(text: str, start: str, end: str, block: str) -> str:
    """`text` with what lies between `start` and `end` replaced by `block`; the rest unchanged."""
    block_start, block_end = check_marker_pair(text, start, end)
    return f"{text[:block_start]}\n{block.strip()}\n{text[block_end:]}"


def update_docs_file(path: Path, kind: str, block: str) -> None:
    try:
        path.write_text(replace_between_markers(path.read_text(), kind, block))
    except MarkerError as error:
        raise MarkerError(f"{path}: {error}") from None


def ensure_docs_file_has_markers(path: Path, kind: str) -> None:
    """Checked before a run, so that a 9-minute run does not end in a missing marker."""
    try:
        check_markers(path.read_text(), kind)
    except FileNotFoundError:
        raise MarkerError(f"{path} does not exist (BENCH_DOCS_FILE=off writes no docs file)") from None
    except MarkerError as error:
        raise MarkerError(f"{path}: {error}") from None


def format_ratio(baseline: float, value: float) -> str:
    if not value:
        return "n/a"
    return f"{baseline / value:,.0f}x" if baseline / value >= 10 else f"{baseline / value:,.1f}x"


def bench_markdown(results: dict[str, Any]) -> str:
    configurations = results["configurations"]
    baseline = configurations.get("baseline")
    scenario, dataset = results["scenario"], results["dataset"]
    lines = [
        f"Measured {results['finished_at']} on {results['machine']}; load generator on the same machine. "
        f"{ONE_RUN_NOTE}",
        f"Dataset: {dataset['courses']:,} courses over {dataset['semesters']} semesters and {dataset['departments']} "
        f"departments, {dataset['students']:,} students, {dataset['enrollments']:,} enrollments "
        f"(seeded in {dataset['seed_seconds']:.0f} s). Scenario: {scenario['users']} users spawned at "
        f"{scenario['spawn_rate']}/s, {scenario['warmup_seconds']} s of warm-up, then {scenario['measured_seconds']} s "
        f"measured; web server: {scenario['web_server']}.",
        "",
        "The registration-week mix by configuration (one run):",
        "",
        "| configuration | avg | p50 | p95 | p99 | req/s | failures | cache hits | DynamoDB calls/req "
        "| RCU/req | server CPU | CPU ms/req |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, figures in configurations.items():
        hit_rate = figures["cache_hit_rate"]
        lines.append(
            f"| {name} | {format_ms(figures['average_ms'])} | {format_ms(figures['p50_ms'])} "
            f"| {format_ms(figures['p95_ms'])} | {format_ms(figures['p99_ms'])} "
            f"| {figures['requests_per_second']:,.1f} | {format_failures(figures)} "
            f"| {'n/a' if hit_rate is None else f'{hit_rate:.2%}'} | {figures['dynamodb_calls_per_request']:.2f} "
            f"| {figures['read_capacity_per_request']:.2f} | {figures['server_cpu_percent']:.0f}% "
            f"| {figures['server_cpu_ms_per_request']:.2f} |"
        )
    if baseline:
        lines += [
            "",
            "Against the baseline (how many times better; one run):",
            "",
            "| configuration | avg | p50 | p99 | req/s | RCU/req | RCU/req as % of baseline |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, figures in configurations.items():
            if name == "baseline":
                continue

            def better(key: str, figures: dict[str, Any] = figures) -> str:
                return format_ratio(baseline[key], figures[key])

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
    lines += route_cpu_lines(configurations.get("product"))
    lines += key_endpoint_lines(results)
    lines += peak_lines(
        results["peak"],
        product=results["configurations"].get("product"),
        bare_at_mix_load=results.get("bare_at_mix_load"),
    )
    lines += rush_lines(results["rush"])
    return "\n".join(lines) + "\n"


def key_endpoint_lines(results: dict[str, Any]) -> list[str]:
    """Enroll and the cached course list in the product's run, beside an earlier run's if given."""
    figures, before = results.get("key_endpoints") or {}, results.get("before")
    earlier = (before or {}).get("key_endpoints") or {}
    lines = ["", "Enroll and the cached course list in the product's run (locust, per endpoint; one run):", ""]
    lines.append("| endpoint | requests | p50 | p99 |" + (" before: p50 | before: p99 |" if before else ""))
    lines.append("|---|---|---|---|" + ("---|---|" if before else ""))
    for key, (_, label) in KEY_ENDPOINTS.items():
        now, then = figures.get(key), earlier.get(key)
        requests = now["requests"] if now else 0
        row = f"| {label} | {requests} | {measured_ms(now, 'p50_ms')} | {measured_ms(now, 'p99_ms')} |"
        lines.append(row + (f" {measured_ms(then, 'p50_ms')} | {measured_ms(then, 'p99_ms')} |" if before else ""))
    if before is None:
        lines.append("\nNo earlier run to compare with (BENCH_BEFORE_JSON names one's bench.json).")
        return lines
    growth = enroll_p50_growth(results)
    verdict = (
        "n/a"
        if growth is None
        else f"{growth:.2f}x the earlier run's ({'within' if growth <= ENROLL_P50_BUDGET else 'over'} the budget "
        f"of {ENROLL_P50_BUDGET:.2f}x)"
    )
    lines.append(f"\nBefore: the run of {before['finished_at']} (`{before['source']}`). Enroll p50: {verdict}.")
    return lines


def unanswered_text(measurement: dict[str, Any]) -> str | None:
    """What a measurement that a failed GET ended shows: "over N s" (N: the limit that hit), or the
    failure itself; None for a measurement whose every GET was answered (benchmarks/scale.py)."""
    failure = measurement.get("unanswered")
    if failure is None:
        return None
    if failure["over_seconds"] is not None:
        return f"over {failure['over_seconds']:g} s"
    return f"failed after {failure['after_seconds']:g} s ({failure['error']})"


def scale_latency(measurement: dict[str, Any], key: str) -> str:
    return unanswered_text(measurement) or format_ms(measurement[key])


def scale_read_capacity(measurement: dict[str, Any], digits: int) -> str:
    value = measurement["read_capacity_per_request"]
    return "n/a" if value is None else f"{value:,.{digits}f}"


def scale_markdown(results: dict[str, Any]) -> str:
    lines = [
        f"Measured {results['finished_at']} on {results['machine']}; sequential requests, one at a time; "
        'one run, without a spread. A GET that fails or runs out of time ends its measurement: "over N s" '
        "names the limit it hit.",
        "",
        "| courses | seeded in | cached p50 | cached avg | uncached p50 | uncached avg | baseline p50 | baseline avg "
        "| baseline RCU/req | uncached RCU/req |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in results["rows"]:
        cached, uncached, baseline = row["cached"], row["uncached"], row["baseline"]
        lines.append(
            f"| {row['courses']:,} | {row['seed_seconds']:.0f} s | {scale_latency(cached, 'p50_ms')} "
            f"| {scale_latency(cached, 'average_ms')} | {scale_latency(uncached, 'p50_ms')} "
            f"| {scale_latency(uncached, 'average_ms')} | {scale_latency(baseline, 'p50_ms')} "
            f"| {scale_latency(baseline, 'average_ms')} | {scale_read_capacity(baseline, 0)} "
            f"| {scale_read_capacity(uncached, 1)} |"
        )
    return "\n".join(lines) + "\n"
