"""When a worker yields the default queue to a burst of refused writes (courseproject/background/
yielding.py): the decision, from the total of refused writes read once a second. The step in a
real worker: tests/e2e/test_worker_yielding.py."""

from __future__ import annotations

from courseproject.background.yielding import Yielding


def decisions(state: Yielding, totals: list[int | None]) -> list[bool]:
    """What the worker decides at each second, reading `totals` one a second from t=0."""
    return [state.observe(total, float(second)) for second, total in enumerate(totals)]


def test_yields_while_refusals_grow_and_works_again_after_the_grace():
    state = Yielding(grace_seconds=3, max_seconds=60)
    # Refusals at t=2 and t=3; the grace runs out at t=6.
    assert decisions(state, [5, 5, 9, 14, 14, 14, 14, 14]) == [False, False, True, True, True, True, False, False]


def test_the_first_reading_is_a_baseline_not_a_burst():
    state = Yielding(grace_seconds=3, max_seconds=60)
    assert decisions(state, [1_000, 1_000, 1_000]) == [False, False, False]


def test_an_unreadable_total_is_no_news_and_a_reset_is_no_refusal():
    state = Yielding(grace_seconds=3, max_seconds=60)
    # Redis unreadable from t=2: the burst seen at t=1 ends with its grace. The counters cleared at
    # t=5 (a lower total) are no refusal; growth from there is.
    assert decisions(state, [5, 6, None, None, None, 0, 0, 1]) == [False, True, True, True, False, False, False, True]


def test_a_long_burst_is_yielded_to_at_most_max_seconds_then_worked_through_as_long():
    state = Yielding(grace_seconds=3, max_seconds=10)
    answers = decisions(state, list(range(40)))  # refusals every second
    assert answers[0] is False  # the baseline
    assert all(answers[1:11])  # yielding from t=1 ...
    assert not any(answers[11:21])  # ... for 10 s, then working for 10 s
    assert all(answers[21:31])
    assert not any(answers[31:40])
