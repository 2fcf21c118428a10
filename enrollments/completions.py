"""Completions: a course's enrollments marked `completed` once its semester's drop deadline has
passed, and transfer credit recorded by the registrar. Completed courses satisfy prerequisites.

A course of hundreds of students is completed one student at a time (each a small transaction of
the enrollment and the student's transcript), not in one transaction, which holds at most 100 items.
Completing is idempotent: a completed enrollment is left as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from accounts.models import Actor
from courseproject.api.errors import ConflictError, PermissionDeniedError
from courseproject.api.rendering import isoformat
from courseproject.dynamo.batch import batch_get
from courseproject.dynamo.transactions import commit_transaction
from courses.models import Course
from courses.permissions import ensure_can_manage
from courses.selectors import course_or_404
from enrollments.events import announce_enrollment_change, announce_transcript_recorded
from enrollments.models import (
    TRANSFER_SEMESTER,
    Enrollment,
    EnrollmentStatus,
    Transcript,
    enrollment_id_for,
    transcript_key,
)
from enrollments.records import MAX_ROUNDS, condition_failed, pause_before_round, write_transcript
from enrollments.serializers import enrollment_representation
from semesters.selectors import semester_by_id


@dataclass
class CompletionResult:
    completed: list[str] = field(default_factory=list)
    already_completed: list[str] = field(default_factory=list)
    not_enrolled: list[str] = field(default_factory=list)


def _read_transcript(user_id: str) -> Transcript | None:
    try:
        return Transcript.get(user_id, consistent_read=True)
    except Transcript.DoesNotExist:
        return None


def record_in_transcript(
    *,
    user_id: str,
    entries: dict[str, str],
    only_missing: bool = False,
    extra: Callable[[TransactWrite], None] | None = None,
    prefetched: dict[str, Transcript] | None = None,
) -> int:
    """Set these transcript entries (with `only_missing`, those the transcript lacks, leaving what is
    there as it is) in one transaction with `extra`'s writes, re-reading and retrying when another
    request changed the transcript in between. `prefetched`, the transcripts of a batch read by user
    id, spares the first round its read (absent means none exists). Returns how many entries were set;
    0 writes nothing."""
    for round_number in range(MAX_ROUNDS):
        if round_number:
            pause_before_round(round_number)
        if round_number == 0 and prefetched is not None:
            transcript = prefetched.get(user_id)
        else:
            transcript = _read_transcript(user_id)
        current = transcript.entries if transcript is not None else {}
        wanted = {key: status for key, status in entries.items() if key not in current} if only_missing else entries
        if not wanted:
            return 0

        merged = current | wanted

        def build(transaction: TransactWrite, transcript: Transcript | None = transcript, merged=merged) -> None:
            if extra is not None:
                extra(transaction)
            write_transcript(transaction, user_id=user_id, read=transcript, entries=merged, now=timezone.now())

        try:
            commit_transaction(build)
            return len(wanted)
        except TransactWriteError as error:
            # The transcript is the transaction's last item.
            if not condition_failed(error.cancellation_reasons, len(error.cancellation_reasons) - 1):
                raise
    raise ConflictError("The student's records are changing too fast; please retry.", code="transaction_conflict")


def mark_completed(transaction: TransactWrite, *, enrollment_id: str, now: datetime) -> None:
    """The enrollment's item of a completion transaction: completed, if it is still enrolled."""
    transaction.update(
        Enrollment(enrollment_id),
        actions=[Enrollment.status.set(EnrollmentStatus.COMPLETED.value), Enrollment.updated_at.set(now)],
        condition=Enrollment.status == EnrollmentStatus.ENROLLED.value,
    )


def announce_completed(enrollment: Enrollment, *, actor: Actor, now: datetime) -> None:
    """After the commit: the enrollment as the transaction left it, announced (audit, caches)."""
    before = enrollment_representation(enrollment)
    enrollment.status = EnrollmentStatus.COMPLETED.value
    enrollment.updated_at = now
    announce_enrollment_change(action="completed", actor_id=actor.user_id, enrollment=enrollment, before=before)


def _complete_one(enrollment: Enrollment, *, course: Course, actor: Actor, transcripts: dict[str, Transcript]) -> bool:
    """Mark one enrollment completed with its transcript entry; False if it was no longer enrolled."""
    now = timezone.now()
    try:
        record_in_transcript(
            user_id=enrollment.user_id,
            entries={
                transcript_key(
                    course_code=course.course_code, semester_id=int(course.semester_id)
                ): EnrollmentStatus.COMPLETED.value
            },
            extra=lambda transaction: mark_completed(transaction, enrollment_id=enrollment.enrollment_id, now=now),
            prefetched=transcripts,
        )
    except TransactWriteError as error:
        if condition_failed(error.cancellation_reasons, 0):
            return False  # dropped (or completed) meanwhile
        raise
    announce_completed(enrollment, actor=actor, now=now)
    return True


def _enrollments_to_complete(course: Course, *, user_ids: list[str] | None) -> list[Enrollment]:
    if user_ids is None:
        return list(
            Enrollment.by_course.query(
                course.course_id,
                filter_condition=Enrollment.status.is_in(
                    EnrollmentStatus.ENROLLED.value, EnrollmentStatus.COMPLETED.value
                ),
            )
        )
    found = batch_get(
        Enrollment,
        [enrollment_id_for(user_id=user_id, course_id=course.course_id) for user_id in user_ids],
        consistent_read=True,
    )
    return list(found.values())


def complete_course(*, actor: Actor, course_id: str, user_ids: list[str] | None) -> CompletionResult:
    """Mark the given students' (or, with None, every enrolled student's) enrollments completed."""
    course = course_or_404(course_id=course_id)
    ensure_can_manage(actor, instructor_id=course.instructor_id)
    semester = semester_by_id(semester_id=int(course.semester_id))
    now = timezone.now()
    if semester is None or not semester.drop_deadline_passed(now):
        deadline = isoformat(semester.drop_deadline) if semester is not None else None
        raise ConflictError(
            "Completions are recorded once the semester's drop deadline has passed.",
            code="drop_deadline_not_passed",
            context={"drop_deadline": deadline},
        )
    result = CompletionResult()
    enrollments = {enrollment.user_id: enrollment for enrollment in _enrollments_to_complete(course, user_ids=user_ids)}
    to_complete = [
        user_id for user_id, enrollment in enrollments.items() if enrollment.status == EnrollmentStatus.ENROLLED
    ]
    # Their transcripts in BatchGetItems of 100, not one read a student (a transcript changed since is read again).
    transcripts = batch_get(Transcript, to_complete, consistent_read=True)
    for user_id in user_ids if user_ids is not None else sorted(enrollments):
        enrollment = enrollments.get(user_id)
        if enrollment is not None and enrollment.status == EnrollmentStatus.COMPLETED:
            result.already_completed.append(user_id)
        elif enrollment is None or enrollment.status != EnrollmentStatus.ENROLLED:
            result.not_enrolled.append(user_id)
        elif _complete_one(enrollment, course=course, actor=actor, transcripts=transcripts):
            result.completed.append(user_id)
        else:
            result.not_enrolled.append(user_id)
    return result


def record_transfer_credit(*, actor: Actor, user_id: str, course_code: str) -> None:
    """The registrar records a course taken elsewhere: it satisfies prerequisites from then on."""
    if not actor.is_admin:
        raise PermissionDeniedError("Only admins record transfer credit.")
    record_in_transcript(
        user_id=user_id,
        entries={
            transcript_key(course_code=course_code, semester_id=TRANSFER_SEMESTER): EnrollmentStatus.COMPLETED.value
        },
    )
    announce_transcript_recorded(
        user_id=user_id,
        actor_id=actor.user_id,
        courses=[{"course_code": course_code, "semester_id": TRANSFER_SEMESTER}],
        source="transfer_credit",
    )
