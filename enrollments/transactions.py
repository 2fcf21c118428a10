"""The enroll and drop transactions: the enrollment, the seat counter, and the student's schedule and
transcript, each item with the condition that keeps its rule true whatever runs at the same time.

Both answer None or False when the schedule or transcript changed since the caller read them: the
caller (services.py) reads again and re-checks the rules. Other refusals become typed errors.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.constants import ALL_OLD
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from courseproject.api.errors import ConflictError, NotFoundError
from courseproject.dynamo.transactions import commit_transaction
from courses.models import Course
from enrollments.models import Enrollment, EnrollmentStatus, transcript_key
from enrollments.records import (
    StudentRecords,
    condition_failed,
    schedule_entry,
    start_enrollment,
    write_schedule,
    write_started_enrollment,
    write_transcript,
)

logger = logging.getLogger(__name__)

# Positions of the items in the enroll and drop transactions, for reading cancellation reasons.
ENROLLMENT, COURSE, SCHEDULE, TRANSCRIPT = range(4)


@dataclass(frozen=True)
class EnrollResult:
    enrollment: Enrollment
    created: bool


def course_full(course: Course) -> ConflictError:
    """No seat for a new student (none free, or someone waits for it); says whether the waitlist has room."""
    waitlist_open = int(course.waitlisted_count or 0) < int(course.waitlist_capacity)
    detail = "This course is full." + (" Its waitlist has room." if waitlist_open else "")
    return ConflictError(detail, code="course_full", context={"waitlist_open": waitlist_open})


def nobody_waiting() -> Any:
    """A direct enroll's condition: a seat freed while anyone waits is theirs."""
    return Course.waitlisted_count.does_not_exist() | (Course.waitlisted_count == 0)


def rules_unchanged(course: Course) -> Any:
    """The course still has the credits, meetings and prerequisites the rules were checked against."""
    read = int(course.rules_revision or 0)
    if read == 0:  # also a course written before the attribute existed
        return Course.rules_revision.does_not_exist() | (Course.rules_revision == 0)
    return Course.rules_revision == read


def _write_student_records(
    transaction: TransactWrite,
    *,
    user_id: str,
    semester_id: int,
    records: StudentRecords,
    schedule_courses: dict[str, Any],
    transcript_entries: dict[str, str],
    now: datetime,
) -> None:
    """The schedule and the transcript as an enroll or drop leaves them, each on its version condition:
    the transaction's SCHEDULE and TRANSCRIPT items."""
    write_schedule(
        transaction, user_id=user_id, semester_id=semester_id, read=records.schedule, courses=schedule_courses, now=now
    )
    write_transcript(transaction, user_id=user_id, read=records.transcript, entries=transcript_entries, now=now)


def not_enrolled() -> NotFoundError:
    return NotFoundError("You have no enrollment in this course.", code="not_enrolled")


def commit_enroll(*, user_id: str, records: StudentRecords, semester_id: int, now: datetime) -> EnrollResult | None:
    """The transaction; None when the schedule or transcript changed since they were read (read again)."""
    course = records.course
    enrollment, enrollment_actions = start_enrollment(
        user_id=user_id,
        course_id=course.course_id,
        semester_id=semester_id,
        status=EnrollmentStatus.ENROLLED.value,
        now=now,
    )
    schedule_courses = {
        **(records.schedule.courses if records.schedule else {}),
        course.course_id: schedule_entry(course),
    }
    key = transcript_key(course_code=course.course_code, semester_id=semester_id)
    transcript_entries = dict(records.transcript.entries if records.transcript else {})
    # A completion recorded for this course and semester (an import of history) is never downgraded.
    if transcript_entries.get(key) != EnrollmentStatus.COMPLETED:
        transcript_entries[key] = EnrollmentStatus.ENROLLED.value

    def build(transaction: TransactWrite) -> None:
        write_started_enrollment(transaction, enrollment=enrollment, actions=enrollment_actions)
        transaction.update(
            Course(course.course_id),
            # Nobody waits (or the seat would be theirs), so no freed seat is left waiting to be measured.
            actions=[Course.enrolled_count.add(1), Course.revision.add(1), Course.seat_freed_at.remove()],
            condition=Course.course_id.exists()
            & (Course.enrolled_count < Course.capacity)
            & nobody_waiting()
            & rules_unchanged(course),
            return_values=ALL_OLD,
        )
        _write_student_records(
            transaction,
            user_id=user_id,
            semester_id=semester_id,
            records=records,
            schedule_courses=schedule_courses,
            transcript_entries=transcript_entries,
            now=now,
        )

    try:
        commit_transaction(build)
    except TransactWriteError as error:
        reasons = error.cancellation_reasons
        if (already := condition_failed(reasons, ENROLLMENT)) is not None and already.raw_item:
            existing = Enrollment.from_raw_data(already.raw_item)
            if existing.status in (EnrollmentStatus.ENROLLED, EnrollmentStatus.WAITLISTED):
                return EnrollResult(enrollment=existing, created=False)
            return None  # completed meanwhile, or another state: read again and decide
        if (course_reason := condition_failed(reasons, COURSE)) is not None:
            if not course_reason.raw_item:
                raise NotFoundError("Course not found.", code="course_not_found") from None
            current = Course.from_raw_data(course_reason.raw_item)
            rules_moved = int(current.rules_revision or 0) != int(course.rules_revision or 0)
            records_moved = condition_failed(reasons, SCHEDULE) or condition_failed(reasons, TRANSCRIPT)
            if current.seats_available > 0 or rules_moved or records_moved:
                # The rules come before the seat: what they read changed, so read again and check them first.
                return None
            raise course_full(current) from None
        if condition_failed(reasons, SCHEDULE) or condition_failed(reasons, TRANSCRIPT):
            return None
        raise
    # The previous record (new, or dropped before) is not read on this hot path: `before` is None.
    return EnrollResult(enrollment=enrollment, created=True)


def commit_drop(*, records: StudentRecords, semester_id: int, now: datetime) -> bool:
    """The transaction; False when the schedule or transcript changed since they were read (read again)."""
    enrollment = records.enrollment
    user_id, course_id = enrollment.user_id, enrollment.course_id
    schedule_courses = {
        other_id: entry
        for other_id, entry in (records.schedule.courses if records.schedule else {}).items()
        if other_id != course_id
    }
    course_code = (records.course.course_code if records.course else None) or (
        (records.schedule.courses if records.schedule else {}).get(course_id, {}).get("course_code")
    )
    dropped_key = transcript_key(course_code=course_code or "", semester_id=semester_id)
    # Only the in-progress entry goes: a completion recorded for the same course and semester stays.
    transcript_entries = {
        key: status
        for key, status in (records.transcript.entries if records.transcript else {}).items()
        if not (key == dropped_key and status == EnrollmentStatus.ENROLLED)
    }

    def build(transaction: TransactWrite) -> None:
        transaction.update(
            Enrollment(enrollment.enrollment_id),
            actions=[
                Enrollment.status.set(EnrollmentStatus.DROPPED.value),
                Enrollment.dropped_at.set(now),
                Enrollment.updated_at.set(now),
            ],
            condition=Enrollment.status == EnrollmentStatus.ENROLLED.value,
        )
        transaction.update(
            Course(course_id),
            actions=[
                Course.enrolled_count.add(-1),
                Course.revision.add(1),
                # The earliest seat still free: a promotion's lag is measured from it.
                Course.seat_freed_at.set(Course.seat_freed_at | now),
            ],
            condition=Course.course_id.exists() & (Course.enrolled_count > 0),
        )
        _write_student_records(
            transaction,
            user_id=user_id,
            semester_id=semester_id,
            records=records,
            schedule_courses=schedule_courses,
            transcript_entries=transcript_entries,
            now=now,
        )

    try:
        commit_transaction(build)
    except TransactWriteError as error:
        reasons = error.cancellation_reasons
        if condition_failed(reasons, ENROLLMENT):
            raise not_enrolled() from None
        if condition_failed(reasons, COURSE):
            # Deleting a course requires no enrollments, so this means the counter drifted.
            logger.error("Seat counter of course %s disagrees with the enrollment of %s", course_id, user_id)
            raise ConflictError(
                "This course's seat count is inconsistent; staff have been alerted.", code="seat_counter_mismatch"
            ) from None
        if condition_failed(reasons, SCHEDULE) or condition_failed(reasons, TRANSCRIPT):
            return False
        raise
    return True
