"""The PNG charts of a run (bench.png, scale.png), drawn with matplotlib's Figure directly: no
pyplot, so no backend to choose and no global figure state to clean up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matplotlib.figure import Figure


def bench_chart(results: dict[str, Any], path: Path) -> None:
    """Latency of each configuration (log scale), and throughput: the scenario's, then the peak's."""
    names = list(results["configurations"])
    figure = Figure(figsize=(12, 4.5))
    latency_axis, throughput_axis = figure.subplots(1, 2)
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


def scale_chart(results: dict[str, Any], path: Path) -> None:
    """Course-list p50 by catalogue size, cached, uncached and baseline (log-log)."""
    figure = Figure(figsize=(7, 4.5))
    axis = figure.subplots()
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
