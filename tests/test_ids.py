"""Identifier rules: record ids and semester arithmetic."""

from datetime import date

import pytest

from courseproject.ids import (
    GENERATED_ID_PATTERN,
    ID_PATTERN,
    consecutive_semesters,
    neighbouring_semesters,
    new_id,
    semester_of,
)


@pytest.mark.parametrize(
    ("day", "semester"),
    [
        (date(2026, 1, 1), 20261),
        (date(2026, 5, 31), 20261),
        (date(2026, 6, 1), 20262),
        (date(2026, 8, 31), 20262),
        (date(2026, 9, 1), 20263),
        (date(2026, 12, 31), 20263),
    ],
)
def test_a_date_falls_in_spring_summer_or_fall(day, semester):
    assert semester_of(day) == semester


def test_semesters_follow_each_other_across_years():
    assert consecutive_semesters(20261, 5) == [20261, 20262, 20263, 20271, 20272]
    assert consecutive_semesters(20263, 2) == [20263, 20271]
    assert consecutive_semesters(20261, 0) == []


def test_neighbouring_semesters_surround_the_centre():
    assert neighbouring_semesters(20263, before=3, after=2) == [20253, 20261, 20262, 20263, 20271, 20272]
    assert neighbouring_semesters(20261, before=1, after=1) == [20253, 20261, 20262]


def test_an_out_of_range_term_is_read_as_the_nearest_term():
    assert neighbouring_semesters(20260, before=0, after=1) == [20261, 20262]
    assert neighbouring_semesters(20269, before=0, after=1) == [20263, 20271]


def test_generated_ids_have_the_generated_shape_and_fit_the_id_pattern():
    generated = new_id()
    assert GENERATED_ID_PATTERN.fullmatch(generated)
    assert ID_PATTERN.fullmatch(generated)
    assert not ID_PATTERN.fullmatch("a/b") and not ID_PATTERN.fullmatch("x" * 65) and not ID_PATTERN.fullmatch("")
