"""benchmarks.stats.percentile is the nearest-rank percentile: rank ceil(fraction x n), counted from 1."""

from __future__ import annotations

import pytest

from benchmarks.stats import percentile

ONE_TO_HUNDRED = [float(value) for value in range(1, 101)]


def test_the_median_of_four_values_is_the_second():
    assert percentile([1, 2, 3, 4], 0.5) == 2


def test_p99_of_one_to_hundred_is_99_and_p100_is_the_maximum():
    assert percentile(ONE_TO_HUNDRED, 0.99) == 99
    assert percentile(ONE_TO_HUNDRED, 1.0) == 100


def test_every_whole_percent_of_one_to_hundred_is_that_value():
    # Also where fraction x n is not exact in floating point (0.07 x 100 = 7.000000000000001).
    assert [percentile(ONE_TO_HUNDRED, whole / 100) for whole in range(1, 101)] == ONE_TO_HUNDRED


def test_p95_of_twenty_values_is_the_nineteenth():
    assert percentile(list(range(1, 21)), 0.95) == 19


def test_values_need_not_be_sorted():
    assert percentile([40, 10, 30, 20], 0.75) == 30


def test_p0_is_the_minimum():
    assert percentile([5, 3, 9], 0.0) == 3


def test_one_value_is_every_percentile():
    assert percentile([7.5], 0.01) == percentile([7.5], 0.5) == percentile([7.5], 1.0) == 7.5


def test_no_values_give_zero():
    assert percentile([], 0.99) == 0.0


@pytest.mark.parametrize("fraction", [-0.1, 1.5, 99])
def test_a_fraction_outside_zero_to_one_is_refused(fraction):
    with pytest.raises(ValueError, match="between 0 and 1"):
        percentile([1, 2, 3], fraction)
