"""The demo's semesters and their registration windows, relative to a day (today by default), so the
demo always has a semester whose registration is closed, one open now and one opening later.

No Django here: the benchmark runner and the locust files read the semester ids too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from courseproject.ids import consecutive_semesters, neighbouring_semesters, semester_name, semester_of

# The benchmark's semesters are fixed (with every window open) so its figures compare across runs.
FIRST_BENCH_SEMESTER = 20261

# Positions in the demo's list of semesters.
CLOSED, OPEN, LATER = 0, 1, 2

# The closed semester: registration, adding and dropping all over.
CLOSED_OPENED_BEFORE = timedelta(days=150)
CLOSED_ADD_DEADLINE_BEFORE = timedelta(days=100)
CLOSED_DROP_DEADLINE_BEFORE = timedelta(days=60)
# The open semester: opened a week ago, adding for two more weeks, dropping for four.
OPEN_OPENED_BEFORE = timedelta(days=7)
OPEN_ADD_DEADLINE_AFTER = timedelta(days=14)
OPEN_DROP_DEADLINE_AFTER = timedelta(days=28)
# Later semesters: the first opens in two weeks, each further one a term after the one before.
LATER_OPENS_AFTER = timedelta(days=14)
LATER_EACH_FURTHER = timedelta(days=120)
LATER_ADD_DEADLINE_AFTER_OPENING = timedelta(days=56)
LATER_DROP_DEADLINE_AFTER_OPENING = timedelta(days=84)


@dataclass(frozen=True)
class DemoSemester:
    semester_id: int
    name: str
    registration_opens_at: datetime
    add_deadline: datetime
    drop_deadline: datetime

    def registration_has_opened(self, at: datetime) -> bool:
        return self.registration_opens_at <= at

    def describe(self, at: datetime) -> str:
        if at < self.registration_opens_at:
            state = "opens later"
        elif at <= self.add_deadline:
            state = "open now"
        else:
            state = "closed"
        return (
            f"{self.semester_id} {self.name}: registration {state} ({self.registration_opens_at:%Y-%m-%d %H:%M}Z to "
            f"{self.add_deadline:%Y-%m-%d %H:%M}Z), drop until {self.drop_deadline:%Y-%m-%d %H:%M}Z"
        )


def utc_today() -> date:
    return datetime.now(UTC).date()


def demo_semester_ids(count: int, *, today: date | None = None, first: int | None = None) -> list[int]:
    """`count` semesters from the one before today's (or from `first`): on 2026-12-01, 3 give
    [20262, 20263, 20271]."""
    if first is not None:
        return consecutive_semesters(first, count)
    return neighbouring_semesters(semester_of(today or utc_today()), before=1, after=count - 2)


def bench_semester_ids(count: int) -> list[int]:
    """The benchmark's semesters: 20261, 20262, 20263, 20271, ..."""
    return consecutive_semesters(FIRST_BENCH_SEMESTER, count)


def demo_semesters(semester_ids: list[int], *, today: date | None = None, all_open: bool = False) -> list[DemoSemester]:
    """The semesters with their windows, from midnight UTC of `today`: the first closed, the second
    open now, the others opening later; with `all_open`, every one open now (for the benchmark)."""
    midnight = datetime.combine(today or utc_today(), time(), tzinfo=UTC)
    semesters = []
    for position, semester_id in enumerate(semester_ids):
        if all_open or position == OPEN:
            window = (
                midnight - OPEN_OPENED_BEFORE,
                midnight + OPEN_ADD_DEADLINE_AFTER,
                midnight + OPEN_DROP_DEADLINE_AFTER,
            )
        elif position == CLOSED:
            window = (
                midnight - CLOSED_OPENED_BEFORE,
                midnight - CLOSED_ADD_DEADLINE_BEFORE,
                midnight - CLOSED_DROP_DEADLINE_BEFORE,
            )
        else:
            opens_at = midnight + LATER_OPENS_AFTER + (position - LATER) * LATER_EACH_FURTHER
            window = (
                opens_at,
                opens_at + LATER_ADD_DEADLINE_AFTER_OPENING,
                opens_at + LATER_DROP_DEADLINE_AFTER_OPENING,
            )
        semesters.append(DemoSemester(semester_id, semester_name(semester_id), *window))
    return semesters
