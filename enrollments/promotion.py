"""Giving freed seats to the waitlist, in join order, exactly once; expiring waitlists at the add
deadline; and the sweep that does both wherever a task was lost.

A seat frees (a drop, a capacity raise, a deactivated student's release) and the change dispatches
`promote_waitlist` on the waitlist queue. The promoter reads the waitlist (the course consistently,
then the index) and takes its head: a student who still passes the enroll rules is promoted into
the seat, one who no longer does is skipped with the rule's code as `skip_reason`, and the next is
tried, until the seats or the waitlist run out. Each outcome is its own transaction
(enrollments/waitlist.py), which holds the follow-up in the outbox; the promoter runs the follow-up
at once and then deletes it.

Every step is safe to repeat or to run twice at once: a lost task, a worker killed mid-promotion
or a promoter racing another leaves at most a seat free for a while, which the next promoter or the
sweep (every WAITLIST_SWEEP_INTERVAL_SECONDS, over the sparse CoursesWithWaitlist index) fills.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone
from pynamodb.exceptions import DeleteError, UpdateError

from courseproject.api.errors import ConflictError, NotFoundError
from courseproject.background.models import OutboxEvent
from courseproject.background.reliable import RetryLater
from courseproject.dynamo.batch import batch_get
from courseproject.observability.counters import record_waitlist_outcome
from courses.models import WAITLIST_SHARDS, Course
from enrollments.events import announce_enrollment_change
from enrollments.models import Enrollment, EnrollmentStatus
from enrollments.records import StudentRecords, read_student_records
from enrollments.rules import check_enroll_rules
from enrollments.serializers import enrollment_representation
from enrollments.waitlist import (
    EXPIRED,
    FOLLOW_UP_TASK,
    PROMOTED,
    WaitlistOutcome,
    commit_waitlist_exit,
    outcome_event_id,
    skipped,
)
from enrollments.waitlist_order import read_waitlist_order
from semesters.models import Semester

logger = logging.getLogger(__name__)

# The actor the audit log names for what the waitlist does by itself.
WAITLIST_ACTOR = "system:waitlist"
# Outcomes one promoter run commits at most (a run is retried, or the sweep goes on, after that).
MAX_OUTCOMES_PER_RUN = 500


@dataclass
class FillReport:
    promoted: int = 0
    skipped: int = 0
    expired: int = 0

    def add(self, other: FillReport) -> None:
        self.promoted += other.promoted
        self.skipped += other.skipped
        self.expired += other.expired


# What a promoter does with the head of the line, given their records and the time.
OutcomeChoice = Callable[[StudentRecords, datetime], WaitlistOutcome]


def _decide(records: StudentRecords, now: datetime) -> WaitlistOutcome:
    """Promote the head if the enroll rules still pass on the student's enrolled courses; else skip
    them with the first rule that fails. Past the add deadline the whole waitlist expires."""
    if records.semester is not None and records.semester.add_deadline_passed(now):
        return EXPIRED
    try:
        check_enroll_rules(
            records.course, semester=records.semester, schedule=records.schedule, transcript=records.transcript, now=now
        )
    except ConflictError as refusal:
        return skipped(refusal.code)
    return PROMOTED


def _commit_outcome(entry: Enrollment, outcome_for: OutcomeChoice, *, report: FillReport) -> bool | None:
    """Read the waiting student's records, decide with `outcome_for(records, now)`, commit and follow
    up. True when an outcome was committed, False when the place had ended already (read the
    waitlist again), None when no seat was free after all."""
    records = read_student_records(user_id=entry.user_id, course_id=entry.course_id, semester_id=int(entry.semester_id))
    current = records.enrollment
    if (
        records.course is None
        or current is None
        or current.status != EnrollmentStatus.WAITLISTED
        or int(current.waitlist_sequence or 0) != int(entry.waitlist_sequence or 0)
    ):
        return False
    now = timezone.now()
    outcome = outcome_for(records, now)
    follow_up = {
        "event_id": outcome_event_id(enrollment=current, action=outcome.action),
        "action": outcome.action,
        "user_id": current.user_id,
        "course_id": current.course_id,
        "before": enrollment_representation(current),
    }
    try:
        ended = commit_waitlist_exit(records=records, outcome=outcome, now=now, follow_up=follow_up)
    except NotFoundError:
        return False
    except ConflictError as refusal:
        if refusal.code == "course_full":
            return None
        raise
    if ended is None:
        return False
    follow_up_outcome(**follow_up, enrollment=ended)
    lag_ms = None
    if outcome == PROMOTED and ended.seat_freed_at is not None:
        lag_ms = (ended.promoted_at - ended.seat_freed_at).total_seconds() * 1000
    record_waitlist_outcome(outcome.action, lag_ms=lag_ms)
    if outcome == PROMOTED:
        report.promoted += 1
    elif outcome == EXPIRED:
        report.expired += 1
    else:
        report.skipped += 1
    return True


def follow_up_outcome(
    *, event_id: str, action: str, user_id: str, course_id: str, before: dict[str, Any], enrollment: Enrollment
) -> None:
    """Announce a committed waitlist outcome (caches, the student's email, the audit record, all with
    ids derived from `event_id`), then delete its outbox copy. Repeating it repeats nothing."""
    announce_enrollment_change(
        action=action, actor_id=WAITLIST_ACTOR, enrollment=enrollment, before=before, event_id=event_id
    )
    try:
        OutboxEvent(f"{event_id}:{FOLLOW_UP_TASK}").delete()
    except DeleteError:
        logger.warning("Could not delete the outbox copy of %s; the relay will repeat it harmlessly", event_id)


def fill_freed_seats(*, course_id: str) -> FillReport:
    """Promote (or skip) waiting students in order while a seat is free; expire the waitlist if its
    semester's add deadline has passed."""
    report = FillReport()
    for _ in range(MAX_OUTCOMES_PER_RUN):
        order = read_waitlist_order(course_id)
        if order is None or not order.entries:
            if order is not None and int(order.course.waitlisted_count or 0) > 0:
                raise RetryLater(f"the waitlist index of {course_id} is behind its counter")
            return report
        course = order.course
        if int(course.enrolled_count) >= int(course.capacity):
            return report
        if not order.complete:
            # Someone may wait ahead of the head the index shows: never skip the queue.
            raise RetryLater(f"the waitlist index of {course_id} is behind its counter")
        head = order.entries[0]
        if _commit_outcome(head, _decide, report=report) is None:
            return report
    return report


def expire_waitlist(*, course_id: str) -> FillReport:
    """Everyone still waiting for the course: `waitlist_expired`, one email each."""
    report = FillReport()
    for _ in range(MAX_OUTCOMES_PER_RUN):
        order = read_waitlist_order(course_id)
        if order is None or not order.entries:
            return report
        _commit_outcome(order.entries[0], lambda records, now: EXPIRED, report=report)
    return report


# --- The sweep -----------------------------------------------------------------------------------


@dataclass
class SweepReport(FillReport):
    courses: int = 0
    # Seconds the oldest free seat that someone waits for has been free (0: none): the alarm's metric.
    stalled_seat_seconds: float = 0.0


def courses_with_waitlist() -> list[Course]:
    """Every course someone waits for (or did until lately), from the sparse index, read consistently."""
    course_ids = [key.course_id for shard in range(WAITLIST_SHARDS) for key in Course.with_waitlist.query(shard)]
    return list(batch_get(Course, course_ids, consistent_read=True).values())


def _forget_empty_waitlist(course: Course) -> None:
    """Take a course nobody waits for out of the sparse index (unless someone joined meanwhile)."""
    try:
        course.update(
            actions=[Course.waitlist_shard.remove()],
            condition=Course.waitlisted_count.does_not_exist() | (Course.waitlisted_count == 0),
        )
    except UpdateError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise


def sweep_waitlists() -> SweepReport:
    report = SweepReport()
    courses = courses_with_waitlist()
    report.courses = len(courses)
    semesters = batch_get(Semester, sorted({int(course.semester_id) for course in courses}), consistent_read=True)
    now = timezone.now()
    for course in courses:
        if int(course.waitlisted_count or 0) == 0:
            _forget_empty_waitlist(course)
            continue
        semester = semesters.get(int(course.semester_id))
        if semester is not None and semester.add_deadline_passed(now):
            report.add(expire_waitlist(course_id=course.course_id))
        elif int(course.enrolled_count) < int(course.capacity):
            if course.seat_freed_at is not None:
                stalled = (now - course.seat_freed_at).total_seconds()
                report.stalled_seat_seconds = max(report.stalled_seat_seconds, stalled)
            try:
                report.add(fill_freed_seats(course_id=course.course_id))
            except RetryLater as wait:
                logger.info("Waitlist sweep: %s; the next sweep tries again", wait)
    return report
