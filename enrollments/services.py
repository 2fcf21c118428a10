"""Enroll and drop: each is one DynamoDB transaction over the seat counter, the enrollment, and the
student's schedule and transcript, after the registration rules passed on what one consistent
BatchGetItem read.

The counter's condition (enrolled_count < capacity) is evaluated by DynamoDB inside the transaction,
so no interleaving of requests, processes or machines can oversell a seat. The enrollment's
condition makes a retried enroll or drop a no-op instead of a double count. The schedule and the
transcript are written on the condition that their `version` is still the one the rules read: when
the same student's requests race, one wins and the others read again and re-check the rules, so
the credit limit, time conflicts and prerequisites hold under concurrency, not only one request at
a time.
"""

from __future__ import annotations

from django.utils import timezone

from accounts.models import Actor
from courseproject.api.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from courseproject.api.rendering import isoformat
from courses.selectors import cached_course
from enrollments.models import Enrollment, EnrollmentStatus
from enrollments.records import MAX_ROUNDS, pause_before_round, read_student_records
from enrollments.rules import check_enroll_rules
from enrollments.serializers import enrollment_representation
from enrollments.signals import announce_enrollment_change
from enrollments.transactions import EnrollResult, commit_drop, commit_enroll, not_enrolled


def _schedule_too_busy() -> ConflictError:
    # Every round lost to another request of the same student: rare, and a retry then passes.
    return ConflictError(
        "Too many of your requests are changing your schedule at once; please retry.", code="transaction_conflict"
    )


# --- Enroll --------------------------------------------------------------------------------------


def enroll(
    *, actor: Actor, course_id: str, student_id: str | None = None, override_reason: str | None = None
) -> EnrollResult:
    """Enroll the acting student (or, for an admin, `student_id`); enrolling again while enrolled
    returns the existing record before any rule is checked, so a retried request never fails on one.

    An admin may enroll a student past the window, prerequisite, conflict and credit rules (never
    past capacity) by giving `override_reason`, which the audit log keeps.
    """
    if actor.is_admin and student_id is not None:
        user_id = student_id
    elif actor.is_student and student_id in (None, actor.user_id):
        user_id = actor.user_id
    else:
        raise PermissionDeniedError("Only students can enroll in courses.")
    if override_reason is not None and not (actor.is_admin and override_reason.strip()):
        raise InvalidInputError("An override needs an admin and a reason.", code="override_reason_required")
    # The semester never changes, so the cached course is good enough to find it; everything the
    # rules read comes from the consistent BatchGetItem below.
    semester_id = int(cached_course(course_id=course_id)["semester_id"])
    for round_number in range(MAX_ROUNDS):
        if round_number:
            pause_before_round(round_number)
        records = read_student_records(user_id=user_id, course_id=course_id, semester_id=semester_id)
        if records.course is None:
            raise NotFoundError("Course not found.", code="course_not_found")
        existing = records.enrollment
        if existing is not None and existing.status == EnrollmentStatus.ENROLLED:
            return EnrollResult(enrollment=existing, created=False)
        if existing is not None and existing.status == EnrollmentStatus.COMPLETED:
            raise ConflictError("You have completed this course already.", code="already_completed")
        now = timezone.now()
        if override_reason is None:
            check_enroll_rules(
                records.course,
                semester=records.semester,
                schedule=records.schedule,
                transcript=records.transcript,
                now=now,
            )
        result = commit_enroll(user_id=user_id, records=records, semester_id=semester_id, now=now)
        if result is not None:
            if result.created:
                announce_enrollment_change(
                    action="enrolled",
                    actor_id=actor.user_id,
                    enrollment=result.enrollment,
                    before=None,
                    override_reason=override_reason,
                )
            return result
    raise _schedule_too_busy()


# --- Drop ----------------------------------------------------------------------------------------


def drop(*, actor: Actor, user_id: str, course_id: str) -> Enrollment:
    """Drop a student's enrollment; the record stays with status `dropped` and frees the seat.

    A student drops their own enrollment until the semester's drop deadline; an admin (through the
    admin site) may drop anyone's, also after it.
    """
    if actor.user_id != user_id and not actor.is_admin:
        # Someone else's enrollment does not exist as far as the caller may know.
        raise not_enrolled()
    try:
        semester_id = int(cached_course(course_id=course_id)["semester_id"])
    except NotFoundError:
        raise not_enrolled() from None
    for round_number in range(MAX_ROUNDS):
        if round_number:
            pause_before_round(round_number)
        records = read_student_records(user_id=user_id, course_id=course_id, semester_id=semester_id)
        enrollment = records.enrollment
        if enrollment is None or enrollment.status != EnrollmentStatus.ENROLLED:
            raise not_enrolled()
        now = timezone.now()
        semester = records.semester
        if semester is not None and semester.drop_deadline_passed(now) and not actor.is_admin:
            raise ConflictError(
                f"The drop deadline passed at {isoformat(semester.drop_deadline)}.",
                code="drop_deadline_passed",
                context={"drop_deadline": isoformat(semester.drop_deadline)},
            )
        if commit_drop(records=records, semester_id=semester_id, now=now):
            before = enrollment_representation(enrollment)
            enrollment.status = EnrollmentStatus.DROPPED.value
            enrollment.dropped_at = now
            enrollment.updated_at = now
            announce_enrollment_change(action="dropped", actor_id=actor.user_id, enrollment=enrollment, before=before)
            return enrollment
    raise _schedule_too_busy()
