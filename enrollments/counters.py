"""The counters checked against the records they count, and repaired (manage.py check_counters).

A course's `enrolled_count` counts its enrolled and completed records (a completion keeps its seat,
and its schedule entry), its `waitlisted_count` its waitlisted ones; a schedule's `courses` hold the
student's enrolled and completed courses of the semester, its `waitlists` the courses they wait
for, and `enrolled_credits` the sum of its courses' credits.

Reads whole tables: a paginated, consistent Scan of Courses, Schedules and Enrollments (narrowed by
a filter to the semesters asked for), the records counted in one pass over Enrollments rather than a
Query per course. The only Scans in the code base; they belong to this offline operator command,
never to a request.

The counters are read before the records, and every write that changes a record bumps its course's
`revision` and its schedule's `version` in the same transaction: a repair is conditioned on the one
it read, so a write that landed after that read makes the repair fail ("changed while checking")
instead of being overwritten.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils import timezone
from pynamodb.exceptions import TransactWriteError, UpdateError

from courseproject.caching import keys
from courseproject.caching.entities import forget, put_entities
from courseproject.dynamo.transactions import commit_transaction
from courses.models import Course, waitlist_shard_of
from courses.selectors import seats_payload
from enrollments.backfill import KEPT_STATUSES
from enrollments.models import Enrollment, EnrollmentStatus, Schedule
from enrollments.records import condition_failed, enrolled_credits, schedule_entry, write_schedule

FIXED = "fixed"
CHANGED = "changed while checking; run again"
ENROLLMENT_ATTRIBUTES = ["enrollment_id", "user_id", "course_id", "semester_id", "status", "waitlist_sequence"]

ScheduleKey = tuple[str, int]


@dataclass
class RecordCounts:
    """What the Enrollments table says the counters should be."""

    enrollments: int = 0
    seats: Counter[str] = field(default_factory=Counter)  # course id -> enrolled or completed records
    waiting: Counter[str] = field(default_factory=Counter)  # course id -> waitlisted records
    schedule_courses: dict[ScheduleKey, set[str]] = field(default_factory=dict)
    schedule_waitlists: dict[ScheduleKey, dict[str, int]] = field(default_factory=dict)


@dataclass
class CheckedItem:
    """One course's or schedule's differences (one line each) and, with --fix, what became of them."""

    differences: list[str]
    outcome: str | None = None

    def lines(self) -> list[str]:
        suffix = f" -> {self.outcome}" if self.outcome else ""
        return [f"{difference}{suffix}" for difference in self.differences]


@dataclass
class CounterReport:
    courses: int = 0
    schedules: int = 0
    enrollments: int = 0
    items: list[CheckedItem] = field(default_factory=list)

    def _count(self, outcome: str | None = None) -> int:
        """Differences (with `outcome`, those that ended so)."""
        return sum(len(item.differences) for item in self.items if outcome in (None, item.outcome))

    @property
    def differences(self) -> int:
        return self._count()

    @property
    def fixed(self) -> int:
        return self._count(FIXED)

    @property
    def changed(self) -> int:
        return self._count(CHANGED)

    @property
    def unfixed(self) -> int:
        return self.differences - self.fixed


def check_counters(
    *, semesters: list[int] | None = None, fix: bool = False, on_item: Callable[[CheckedItem], None] = lambda _: None
) -> CounterReport:
    """Compare every counter (of `semesters`, or all) with the records, repair the differences with
    `fix`, and hand each item with differences to `on_item` as it is done."""
    courses = {course.course_id: course for course in _scan(Course, Course.semester_id, semesters)}
    schedules = {
        (item.user_id, int(item.semester_id)): item for item in _scan(Schedule, Schedule.semester_id, semesters)
    }
    counts = count_records(semesters)  # after the counters: see the module's docstring
    report = CounterReport(courses=len(courses), schedules=len(schedules), enrollments=counts.enrollments)
    for course in courses.values():
        if item := _check_course(course, counts, fix=fix):
            report.items.append(item)
            on_item(item)
    for key in sorted(set(schedules) | set(counts.schedule_courses) | set(counts.schedule_waitlists)):
        if item := _check_schedule(key, schedules.get(key), counts, courses=courses, fix=fix):
            report.items.append(item)
            on_item(item)
    return report


def _scan(model: Any, semester_attribute: Any, semesters: list[int] | None, **options: Any) -> Any:
    condition = semester_attribute.is_in(*semesters) if semesters else None
    return model.scan(filter_condition=condition, consistent_read=True, **options)


def count_records(semesters: list[int] | None = None) -> RecordCounts:
    """One pass over the Enrollments table (of `semesters`, or all)."""
    counts = RecordCounts()
    for record in _scan(Enrollment, Enrollment.semester_id, semesters, attributes_to_get=ENROLLMENT_ATTRIBUTES):
        counts.enrollments += 1
        key = (record.user_id, int(record.semester_id))
        if record.status in KEPT_STATUSES:
            counts.seats[record.course_id] += 1
            counts.schedule_courses.setdefault(key, set()).add(record.course_id)
        elif record.status == EnrollmentStatus.WAITLISTED:
            counts.waiting[record.course_id] += 1
            counts.schedule_waitlists.setdefault(key, {})[record.course_id] = int(record.waitlist_sequence or 0)
    return counts


# --- Courses ---------------------------------------------------------------------------------------


def _check_course(course: Course, counts: RecordCounts, *, fix: bool) -> CheckedItem | None:
    seats, waiting = counts.seats[course.course_id], counts.waiting[course.course_id]
    enrolled, waitlisted = int(course.enrolled_count), int(course.waitlisted_count or 0)
    subject = f"course {course.course_id} ({course.course_code}, semester {course.semester_id})"
    differences = []
    if enrolled != seats:
        differences.append(f"{subject}: enrolled_count {enrolled}, enrolled or completed records {seats}")
    if waitlisted != waiting:
        differences.append(f"{subject}: waitlisted_count {waitlisted}, waitlisted records {waiting}")
    if not differences:
        return None
    item = CheckedItem(differences)
    if fix:
        item.outcome = _repair_course(course, seats=seats, waiting=waiting)
    return item


def _repair_course(course: Course, *, seats: int, waiting: int) -> str:
    """Set the counters, if the course is still at the revision read, and write its seats through."""
    read = int(course.revision or 0)
    unchanged = Course.revision == read if read else Course.revision.does_not_exist() | (Course.revision == 0)
    actions = [Course.enrolled_count.set(seats), Course.waitlisted_count.set(waiting), Course.revision.set(read + 1)]
    if seats < int(course.enrolled_count):
        actions.append(Course.seat_freed_at.set(Course.seat_freed_at | timezone.now()))  # as a drop does
    if waiting:
        # Into the sweep's index, which fills any seat the repair freed for them.
        actions.append(Course.waitlist_shard.set(waitlist_shard_of(course.course_id)))
    try:
        course.update(actions=actions, condition=Course.course_id.exists() & unchanged)
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return CHANGED
        raise
    if settings.CACHE_ENABLED:
        put_entities([(keys.course_seats(course.course_id), int(course.revision), seats_payload(course))])
        forget(keys.course_waitlist(course.course_id))  # reloaded, from the index, by its next reader
    return FIXED


# --- Schedules -------------------------------------------------------------------------------------


def _key_differences(name: str, held: set[str], expected: set[str], *, status: str) -> str | None:
    parts = []
    if missing := sorted(expected - held):
        parts.append(f"missing {', '.join(missing)} ({status})")
    if extra := sorted(held - expected):
        parts.append(f"extra {', '.join(extra)} (not {status})")
    return f"{name} {'; '.join(parts)}" if parts else None


def _check_schedule(
    key: ScheduleKey, schedule: Schedule | None, counts: RecordCounts, *, courses: dict[str, Course], fix: bool
) -> CheckedItem | None:
    held_courses = dict(schedule.courses or {}) if schedule is not None else {}
    held_waitlists = dict(schedule.waitlists or {}) if schedule is not None else {}
    expected_courses = counts.schedule_courses.get(key, set())
    expected_waitlists = counts.schedule_waitlists.get(key, {})
    subject = f"schedule {key[0]}/{key[1]}{'' if schedule is not None else ' (absent)'}"
    credits, summed = int(schedule.enrolled_credits or 0) if schedule is not None else 0, enrolled_credits(held_courses)
    courses_differ = _key_differences("courses", set(held_courses), expected_courses, status="enrolled")
    waitlists_differ = _key_differences("waitlists", set(held_waitlists), set(expected_waitlists), status="waitlisted")
    differences = [
        f"{subject}: {difference}"
        for difference in (
            f"enrolled_credits {credits}, credits of its courses {summed}" if credits != summed else None,
            courses_differ,
            waitlists_differ,
        )
        if difference is not None
    ]
    if not differences:
        return None
    item = CheckedItem(differences)
    if fix:
        rebuilt = None
        if courses_differ:
            rebuilt = _rebuilt_courses(expected_courses, held=held_courses, courses=courses)
            if rebuilt is None:
                item.outcome = "not fixed: a course of its records no longer exists"
                return item
        waitlists = dict(expected_waitlists) if waitlists_differ else None
        item.outcome = _repair_schedule(key, schedule, courses=rebuilt, waitlists=waitlists)
    return item


def _rebuilt_courses(
    course_ids: set[str], *, held: dict[str, Any], courses: dict[str, Course]
) -> dict[str, Any] | None:
    """The schedule's courses from the records, with the courses' current credits and meetings."""
    rebuilt = {}
    for course_id in sorted(course_ids):
        if course_id in courses:
            rebuilt[course_id] = schedule_entry(courses[course_id])
        elif course_id in held:
            rebuilt[course_id] = held[course_id]
        else:
            return None
    return rebuilt


def _repair_schedule(
    key: ScheduleKey, schedule: Schedule | None, *, courses: dict[str, Any] | None, waitlists: dict[str, int] | None
) -> str:
    """Write the schedule (its credits recomputed), if it is still the version read."""
    user_id, semester_id = key
    try:
        commit_transaction(
            lambda transaction: write_schedule(
                transaction,
                user_id=user_id,
                semester_id=semester_id,
                read=schedule,
                courses=courses,
                waitlists=waitlists,
                now=timezone.now(),
            )
        )
    except TransactWriteError as error:
        if condition_failed(error.cancellation_reasons, 0):
            return CHANGED
        raise
    return FIXED
