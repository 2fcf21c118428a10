"""The waitlist's transactions: joining, and every way of leaving it (promoted into a seat, skipped,
expired, left or removed). Each is one TransactWriteItems over the enrollment, the course's
counters and the student's schedule (plus the transcript for a promotion), conditioned so that
whatever runs at the same time:

- a join takes the course's next waitlist sequence number inside the transaction (conditioned on
  the sequence it read), so join order is DynamoDB's commit order, not any machine's clock;
- a promotion takes a seat only while one is free (enrolled_count < capacity), and only for an
  enrollment still waiting with that sequence number, so a seat is given once and a student is
  promoted once, however many promoters (the drop's task, the sweep, a redelivered task) race;
- an outcome a worker commits (promoted, skipped, expired) carries its follow-up (emails, audit,
  caches) as an outbox item in the same transaction: a worker killed right after the commit leaves
  it to the outbox relay, and the follow-up's ids are derived from the outcome, so it happens once.

Like enroll and drop, each answers None when what it read changed (the caller reads again).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.constants import ALL_OLD
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from courseproject.api.errors import ConflictError, NotFoundError
from courseproject.background.models import OUTBOX_SHARDS, OutboxEvent, outbox_pending_status
from courseproject.dynamo.transactions import commit_transaction
from courses.models import Course, waitlist_shard_of
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

# The items' positions are the enroll transaction's (ENROLLMENT, COURSE, SCHEDULE, TRANSCRIPT).
from enrollments.transactions import COURSE, ENROLLMENT, SCHEDULE, TRANSCRIPT, EnrollResult, rules_unchanged

# The task an outcome's outbox item runs (enrollments.tasks.follow_up_waitlist_outcome).
FOLLOW_UP_TASK = "enrollments.follow_up_waitlist_outcome"


@dataclass(frozen=True)
class WaitlistOutcome:
    """How a place on the waitlist ended: `status` is the enrollment's new status."""

    status: EnrollmentStatus
    skip_reason: str | None = None

    @property
    def action(self) -> str:
        """The enrollment_changed action: promoted, waitlist_skipped, waitlist_expired, waitlist_left."""
        return "promoted" if self.status == EnrollmentStatus.ENROLLED else self.status.value


PROMOTED = WaitlistOutcome(EnrollmentStatus.ENROLLED)
EXPIRED = WaitlistOutcome(EnrollmentStatus.WAITLIST_EXPIRED)
LEFT = WaitlistOutcome(EnrollmentStatus.WAITLIST_LEFT)


def skipped(reason: str) -> WaitlistOutcome:
    return WaitlistOutcome(EnrollmentStatus.WAITLIST_SKIPPED, skip_reason=reason)


def outcome_event_id(*, enrollment: Enrollment, action: str) -> str:
    """The same for every attempt at the same outcome of the same place: its follow-up happens once."""
    name = f"{action}:{enrollment.enrollment_id}:{int(enrollment.waitlist_sequence or 0)}"
    return uuid.uuid5(uuid.NAMESPACE_URL, f"course-registration:{name}").hex


def waitlist_full(course: Course) -> ConflictError:
    capacity = int(course.waitlist_capacity)
    detail = "This course has no waitlist." if capacity == 0 else f"This course's waitlist is full ({capacity})."
    return ConflictError(detail, code="waitlist_full", context={"waitlist_capacity": capacity})


def _sequence_unchanged(course: Course) -> Any:
    read = int(course.waitlist_sequence or 0)
    if read == 0:
        return Course.waitlist_sequence.does_not_exist() | (Course.waitlist_sequence == 0)
    return Course.waitlist_sequence == read


# --- Join ----------------------------------------------------------------------------------------


def commit_join(*, user_id: str, records: StudentRecords, semester_id: int, now: datetime) -> EnrollResult | None:
    """Put the student at the end of the waitlist; None when the course or their schedule changed since
    they were read (another join took the sequence number, a seat freed with nobody waiting: read again)."""
    course = records.course
    if int(course.waitlisted_count or 0) >= int(course.waitlist_capacity):
        raise waitlist_full(course)
    sequence = int(course.waitlist_sequence or 0) + 1
    enrollment, enrollment_actions = start_enrollment(
        user_id=user_id,
        course_id=course.course_id,
        semester_id=semester_id,
        status=EnrollmentStatus.WAITLISTED.value,
        now=now,
        waitlisted_at=now,
        waitlist_sequence=sequence,
        waitlist_course_id=course.course_id,
    )
    waitlists = {**((records.schedule.waitlists or {}) if records.schedule else {}), course.course_id: sequence}

    def build(transaction: TransactWrite) -> None:
        write_started_enrollment(transaction, enrollment=enrollment, actions=enrollment_actions)
        transaction.update(
            Course(course.course_id),
            actions=[
                Course.waitlisted_count.add(1),
                Course.waitlist_sequence.set(sequence),
                Course.waitlist_shard.set(waitlist_shard_of(course.course_id)),
                Course.revision.add(1),
            ],
            # Still no seat for a new student: all taken, or someone waits for the one that is free.
            condition=Course.course_id.exists()
            & _sequence_unchanged(course)
            & ((Course.enrolled_count >= Course.capacity) | (Course.waitlisted_count > 0))
            & rules_unchanged(course),
            return_values=ALL_OLD,
        )
        write_schedule(
            transaction, user_id=user_id, semester_id=semester_id, read=records.schedule, waitlists=waitlists, now=now
        )

    try:
        commit_transaction(build)
    except TransactWriteError as error:
        reasons = error.cancellation_reasons
        if (already := condition_failed(reasons, ENROLLMENT)) is not None and already.raw_item:
            existing = Enrollment.from_raw_data(already.raw_item)
            if existing.status in (EnrollmentStatus.ENROLLED, EnrollmentStatus.WAITLISTED):
                return EnrollResult(enrollment=existing, created=False)
            return None
        if (course_reason := condition_failed(reasons, COURSE)) is not None and not course_reason.raw_item:
            raise NotFoundError("Course not found.", code="course_not_found") from None
        if course_reason is not None or condition_failed(reasons, SCHEDULE):
            return None
        raise
    return EnrollResult(enrollment=enrollment, created=True)


# --- Leaving the waitlist, in any of its ways ---------------------------------------------------


def _outbox_follow_up(transaction: TransactWrite, *, event_id: str, task_kwargs: dict[str, Any], now: datetime) -> None:
    """The outcome's follow-up, kept in the outbox by the same transaction (an update, as
    records.write_schedule says why). The worker runs it at once and deletes it; if the worker dies
    first, the outbox relay publishes it."""
    transaction.update(
        OutboxEvent(f"{event_id}:{FOLLOW_UP_TASK}"),
        actions=[
            OutboxEvent.task_name.set(FOLLOW_UP_TASK),
            OutboxEvent.task_kwargs.set(task_kwargs),
            OutboxEvent.status.set(outbox_pending_status(int(event_id[:4], 16) % OUTBOX_SHARDS)),
            OutboxEvent.created_at.set(now),
        ],
    )


def _exit_writes(*, records: StudentRecords, outcome: WaitlistOutcome, now: datetime) -> tuple[list, list, Any]:
    """The enrollment's and the course's actions, and the course's condition, for `outcome`."""
    course = records.course
    enrollment_actions = [
        Enrollment.status.set(outcome.status.value),
        Enrollment.updated_at.set(now),
        Enrollment.waitlist_course_id.remove(),
    ]
    course_actions = [Course.waitlisted_count.add(-1), Course.revision.add(1)]
    course_condition = Course.course_id.exists() & (Course.waitlisted_count > 0)
    if outcome == PROMOTED:
        enrollment_actions += [Enrollment.enrolled_at.set(now), Enrollment.promoted_at.set(now)]
        if course.seat_freed_at is not None:
            enrollment_actions.append(Enrollment.seat_freed_at.set(course.seat_freed_at))
        course_actions.append(Course.enrolled_count.add(1))
        course_condition &= (Course.enrolled_count < Course.capacity) & rules_unchanged(course)
        seats_left = int(course.capacity) - int(course.enrolled_count) - 1
        if seats_left <= 0 or int(course.waitlisted_count) <= 1:
            course_actions.append(Course.seat_freed_at.remove())  # no free seat left waiting for someone
    elif outcome.skip_reason:
        enrollment_actions.append(Enrollment.skip_reason.set(outcome.skip_reason))
    if outcome in (LEFT, EXPIRED):
        enrollment_actions.append(Enrollment.dropped_at.set(now))
    return enrollment_actions, course_actions, course_condition


def _records_after_exit(
    records: StudentRecords, *, promoted: bool
) -> tuple[dict[str, Any], dict[str, int], dict[str, str]]:
    """The student's schedule courses, schedule waitlists and (for a promotion) transcript entries."""
    enrollment, course, schedule = records.enrollment, records.course, records.schedule
    courses = dict(schedule.courses) if schedule else {}
    waitlists = dict((schedule.waitlists or {}) if schedule else {})
    waitlists.pop(enrollment.course_id, None)
    entries: dict[str, str] = {}
    if promoted:
        courses[enrollment.course_id] = schedule_entry(course)
        entries = dict(records.transcript.entries if records.transcript else {})
        key = transcript_key(course_code=course.course_code, semester_id=int(enrollment.semester_id))
        if entries.get(key) != EnrollmentStatus.COMPLETED:
            entries[key] = EnrollmentStatus.ENROLLED.value
    return courses, waitlists, entries


def commit_waitlist_exit(
    *,
    records: StudentRecords,
    outcome: WaitlistOutcome,
    now: datetime,
    follow_up: dict[str, Any] | None = None,
) -> Enrollment | None:
    """End the student's place on the waitlist with `outcome`: promoted into a free seat, skipped,
    expired or left. Returns the enrollment as written, or None when the student's schedule or
    transcript (or the course's rules) changed since they were read (read again). Raises
    not_waiting when the place has ended already (another promoter, a leave), and course_full when
    a promotion found no free seat.

    `follow_up` (a worker's outcomes) is the kwargs of the follow-up task, kept in the outbox by the
    same transaction under `follow_up["event_id"]`."""
    enrollment, course = records.enrollment, records.course
    user_id, course_id, semester_id = enrollment.user_id, enrollment.course_id, int(enrollment.semester_id)
    promoted = outcome == PROMOTED
    enrollment_actions, course_actions, course_condition = _exit_writes(records=records, outcome=outcome, now=now)
    courses, waitlists, entries = _records_after_exit(records, promoted=promoted)

    def build(transaction: TransactWrite) -> None:
        transaction.update(
            Enrollment(enrollment.enrollment_id),
            actions=enrollment_actions,
            condition=(Enrollment.status == EnrollmentStatus.WAITLISTED.value)
            & (Enrollment.waitlist_sequence == int(enrollment.waitlist_sequence)),
        )
        transaction.update(Course(course_id), actions=course_actions, condition=course_condition, return_values=ALL_OLD)
        write_schedule(
            transaction,
            user_id=user_id,
            semester_id=semester_id,
            read=records.schedule,
            courses=courses,
            waitlists=waitlists,
            now=now,
        )
        if promoted:
            write_transcript(transaction, user_id=user_id, read=records.transcript, entries=entries, now=now)
        if follow_up is not None:
            _outbox_follow_up(transaction, event_id=follow_up["event_id"], task_kwargs=follow_up, now=now)

    try:
        commit_transaction(build)
    except TransactWriteError as error:
        reasons = error.cancellation_reasons
        if condition_failed(reasons, ENROLLMENT):
            raise not_waiting() from None
        if (course_reason := condition_failed(reasons, COURSE)) is not None:
            if not course_reason.raw_item:
                raise NotFoundError("Course not found.", code="course_not_found") from None
            current = Course.from_raw_data(course_reason.raw_item)
            if promoted and int(current.enrolled_count) >= int(current.capacity):
                raise ConflictError("No seat is free for the waitlist.", code="course_full") from None
            return None  # the course's rules changed under the promotion: check them again
        if condition_failed(reasons, SCHEDULE) or (promoted and condition_failed(reasons, TRANSCRIPT)):
            return None
        raise
    enrollment.status = outcome.status.value
    enrollment.updated_at = now
    enrollment.waitlist_course_id = None
    enrollment.skip_reason = outcome.skip_reason
    if promoted:
        enrollment.enrolled_at = enrollment.promoted_at = now
        enrollment.seat_freed_at = course.seat_freed_at
    if outcome in (LEFT, EXPIRED):
        enrollment.dropped_at = now
    return enrollment


def not_waiting() -> NotFoundError:
    return NotFoundError("You are not on this course's waitlist.", code="not_waitlisted")
