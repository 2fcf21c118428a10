"""The one percentile every benchmark script reports (no Django import: benchmarks.run uses it too)."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest rank: the smallest value with at least `fraction` of the values at or below it
    (p50 of [1, 2, 3, 4] is 2, p99 of 1..100 is 99); 0.0 for no values."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be between 0 and 1, not {fraction}")
    ordered = sorted(values)
    if not ordered:
        return 0.0
    # Rounded first: 0.07 * 100 is 7.000000000000001 in floating point, and its rank is 7, not 8.
    rank = math.ceil(round(fraction * len(ordered), 9))
    return ordered[min(max(rank, 1), len(ordered)) - 1]
