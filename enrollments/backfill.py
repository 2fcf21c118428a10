"""Existing data under the registration rules: the schedules and transcripts of enrollments made
before they existed (or written without them), rebuilt from the enrollments themselves.

Only what is missing is written: a schedule gains the courses it lacks and a transcript the entries
it lacks, each conditioned on its version like every write of them, so an enroll or drop made
meanwhile is read again, never overwritten.
No Scan: a semester's courses come from the CoursesBySemester index, a course's students from
EnrollmentsByCourse.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from pynamodb.exceptions import TransactWriteError

from courseproject.api.errors import ConflictError
from courseproject.dynamo.transactions import commit_transaction
from courses.models import Course
from enrollments.completions import record_in_transcript
from enrollments.models import Enrollment, EnrollmentStatus, Schedule, transcript_key
from enrollments.records import MAX_ROUNDS, condition_failed, pause_before_round, schedule_entry, write_schedule

KEPT_STATUSES = (EnrollmentStatus.ENROLLED.value, EnrollmentStatus.COMPLETED.value)


@dataclass
class RebuildReport:
    schedules_written: int = 0
    transcript_entries_added: int = 0


def rebuild_semester_records(semester_id: int) -> RebuildReport:
    """Write the missing schedules of a semester's students and their missing transcript entries."""
    schedules: dict[str, dict[str, Any]] = {}
    entries: dict[str, dict[str, str]] = {}
    for course in Course.by_semester.query(semester_id):
        enrolled = Enrollment.by_course.query(
            course.course_id, filter_condition=Enrollment.status.is_in(*KEPT_STATUSES)
        )
        for enrollment in enrolled:
            schedules.setdefault(enrollment.user_id, {})[course.course_id] = schedule_entry(course)
            key = transcript_key(course_code=course.course_code, semester_id=semester_id)
            entries.setdefault(enrollment.user_id, {})[key] = enrollment.status
    report = RebuildReport()
    for user_id, courses in sorted(schedules.items()):
        report.schedules_written += _write_missing_schedule(user_id=user_id, semester_id=semester_id, courses=courses)
    for user_id, wanted in sorted(entries.items()):
        report.transcript_entries_added += _add_missing_entries(user_id=user_id, wanted=wanted)
    return report


def _write_missing_schedule(*, user_id: str, semester_id: int, courses: dict[str, Any]) -> int:
    """Add the courses the student's schedule lacks; 1 if it changed, 0 if it had them all."""
    for round_number in range(MAX_ROUNDS):
        if round_number:
            pause_before_round(round_number)
        try:
            schedule = Schedule.get(user_id, semester_id, consistent_read=True)
        except Schedule.DoesNotExist:
            schedule = None
        held = schedule.courses if schedule is not None else {}
        if set(courses) <= set(held):
            return 0
        merged = {**courses, **held}  # what the enroll path wrote stays as it wrote it
        try:
            commit_transaction(
                lambda transaction, schedule=schedule, merged=merged: write_schedule(
                    transaction,
                    user_id=user_id,
                    semester_id=semester_id,
                    read=schedule,
                    courses=merged,
                    now=timezone.now(),
                )
            )
            return 1
        except TransactWriteError as error:
            if not condition_failed(error.cancellation_reasons, 0):
                raise
    raise ConflictError(
        "The student's schedule is changing too fast; run the backfill again.", code="transaction_conflict"
    )


def _add_missing_entries(*, user_id: str, wanted: dict[str, str]) -> int:
    """Add the entries the student's transcript lacks (one transaction); how many were added."""
    return record_in_transcript(user_id=user_id, entries=wanted, only_missing=True)
