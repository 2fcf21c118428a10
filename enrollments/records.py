"""The student's records the registration rules read and the enroll, drop and completion
transactions write: one consistent BatchGetItem to read them, and the conditional puts that make a
transaction fail (and its caller read again) when another request changed them in between."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone
from pynamodb.constants import ALL_OLD
from pynamodb.exceptions import CancellationReason, TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from courseproject.api.errors import ConflictError
from courseproject.dynamo.batch import batch_get_items
from courseproject.dynamo.transactions import commit_transaction
from courses.models import Course
from enrollments.models import ENDED_STATUSES, Enrollment, Schedule, Transcript, enrollment_id_for
from semesters.models import Semester
from semesters.selectors import semester_for_rules

# Rounds of read, check and write when the student's own records changed in between (their other
# requests racing this one). Each round lets at least one of the racing requests through.
MAX_ROUNDS = 20
# Joins of one course's waitlist also race each other for its sequence number: one wins each round.
JOIN_ROUNDS = 100


def pause_before_round(round_number: int) -> None:
    """Full jitter, growing: racing requests of one student spread out instead of colliding again."""
    time.sleep(random.uniform(0, min(0.2, 0.005 * 2**round_number)))


def condition_failed(reasons: list[CancellationReason | None], position: int) -> CancellationReason | None:
    """The cancellation reason of the transaction's item at `position`, if its condition failed."""
    reason = reasons[position] if 0 <= position < len(reasons) else None
    return reason if reason is not None and reason.code == "ConditionalCheckFailed" else None


@dataclass(frozen=True)
class StudentRecords:
    """What the rules need, read together with consistent reads."""

    course: Course | None
    semester: Semester | None
    schedule: Schedule | None
    transcript: Transcript | None
    enrollment: Enrollment | None


def read_student_records(*, user_id: str, course_id: str, semester_id: int) -> StudentRecords:
    """One BatchGetItem: the course, the student's schedule for its semester, their transcript and
    their enrollment in the course; and the semester's rules from the cache, which every semester
    write updates before it returns (semesters/selectors.py)."""
    semester = semester_for_rules(semester_id=semester_id)
    course, schedule, transcript, enrollment = batch_get_items(
        [
            (Course, course_id),
            (Schedule, (user_id, semester_id)),
            (Transcript, user_id),
            (Enrollment, enrollment_id_for(user_id=user_id, course_id=course_id)),
        ]
    )
    return StudentRecords(course, semester, schedule, transcript, enrollment)


def write_schedule(
    transaction: TransactWrite,
    *,
    user_id: str,
    semester_id: int,
    read: Schedule | None,
    courses: dict[str, Any] | None = None,
    waitlists: dict[str, int] | None = None,
    now: datetime,
) -> None:
    """Write the schedule with these courses and waitlists (None: as read), if it is still the
    version the rules read.

    An update, not a put, like every item of the enroll and drop transactions: PynamoDB sends puts
    before updates, and the callers read cancellation reasons by the order they added items in."""
    condition = Schedule.user_id.does_not_exist() if read is None else Schedule.version == int(read.version)
    if courses is None:
        courses = read.courses if read is not None else {}
    if waitlists is None:
        waitlists = (read.waitlists or {}) if read is not None else {}
    transaction.update(
        Schedule(user_id, semester_id),
        actions=[
            Schedule.courses.set(courses),
            Schedule.waitlists.set(waitlists),
            Schedule.enrolled_credits.set(enrolled_credits(courses)),
            Schedule.version.set((int(read.version) if read is not None else 0) + 1),
            Schedule.updated_at.set(now),
        ],
        condition=condition,
    )


def write_transcript(
    transaction: TransactWrite, *, user_id: str, read: Transcript | None, entries: dict[str, str], now: datetime
) -> None:
    """Write the transcript with these entries, if it is still the version the rules read (an update,
    as write_schedule says why)."""
    condition = Transcript.user_id.does_not_exist() if read is None else Transcript.version == int(read.version)
    transaction.update(
        Transcript(user_id),
        actions=[
            Transcript.entries.set(entries),
            Transcript.version.set((int(read.version) if read is not None else 0) + 1),
            Transcript.updated_at.set(now),
        ],
        condition=condition,
    )


# What a new enrollment or waitlist place starts without: a record is reused after a drop or a leave.
_CLEARED_ON_START = (
    "dropped_at",
    "promoted_at",
    "seat_freed_at",
    "skip_reason",
    "waitlisted_at",
    "waitlist_sequence",
    "waitlist_course_id",
)


def start_enrollment(
    *, user_id: str, course_id: str, semester_id: int, status: str, now: datetime, **attributes: Any
) -> tuple[Enrollment, list[Action]]:
    """The record a new enrollment (or place on a waitlist) starts as, and the update actions that
    write it over whatever an earlier one of the same student and course left."""
    values = {
        "user_id": user_id,
        "course_id": course_id,
        "semester_id": semester_id,
        "status": status,
        "enrolled_at": now,
        "updated_at": now,
        **attributes,
    }
    enrollment = Enrollment(enrollment_id_for(user_id=user_id, course_id=course_id), **values)
    actions = [getattr(Enrollment, name).set(value) for name, value in values.items()]
    actions += [getattr(Enrollment, name).remove() for name in _CLEARED_ON_START if name not in values]
    return enrollment, actions


def write_started_enrollment(transaction: TransactWrite, *, enrollment: Enrollment, actions: list[Action]) -> None:
    """The enrollment item of an enroll or a join: written only over no record or an ended one, and
    returning the old item, so a retry that finds the record answers what it holds."""
    transaction.update(
        Enrollment(enrollment.enrollment_id),
        actions=actions,
        condition=Enrollment.enrollment_id.does_not_exist() | Enrollment.status.is_in(*ENDED_STATUSES),
        return_values=ALL_OLD,
    )


def enrolled_credits(courses: dict[str, Any]) -> int:
    """The credit total of a schedule's courses (course id to schedule entry)."""
    return sum(int(entry["credits"]) for entry in courses.values())


def schedule_entry(course: Course) -> dict[str, Any]:
    """What the schedule keeps of an enrolled course: what the credit and conflict rules read."""
    return {"course_code": course.course_code, "credits": int(course.credits), "meetings": course.meetings or []}


def refresh_schedule_entry(*, user_id: str, course: Course, attempts: int = 10) -> bool:
    """Bring the copy of `course` in the student's schedule up to date (an admin changed its credits
    or meetings under enrolled students); True if the schedule changed."""
    semester_id = int(course.semester_id)
    for attempt in range(attempts):
        if attempt:
            pause_before_round(attempt)
        try:
            schedule = Schedule.get(user_id, semester_id, consistent_read=True)
        except Schedule.DoesNotExist:
            return False
        entry = schedule_entry(course)
        if course.course_id not in schedule.courses or schedule.courses[course.course_id] == entry:
            return False
        courses = {**schedule.courses, course.course_id: entry}
        try:
            commit_transaction(
                lambda transaction, schedule=schedule, courses=courses: write_schedule(
                    transaction,
                    user_id=user_id,
                    semester_id=semester_id,
                    read=schedule,
                    courses=courses,
                    now=timezone.now(),
                )
            )
            return True
        except TransactWriteError as error:
            if not condition_failed(error.cancellation_reasons, 0):
                raise
    raise ConflictError("The student's schedule is changing too fast; retry later.", code="transaction_conflict")
