"""The one percentile every benchmark script reports (no Django import: benchmarks.run uses it too)."""

from __future__ import annotations

from collections.abc import Sequence


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest rank: the value below which `fraction` of the values fall (0.0 for no values)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0
