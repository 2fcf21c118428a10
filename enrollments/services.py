"""Enroll and drop: each is one DynamoDB transaction over the seat counter and the enrollment.

The counter's condition (enrolled_count < capacity) is evaluated by DynamoDB inside the transaction,
so no interleaving of requests, processes or machines can oversell a seat. The enrollment's
condition makes a retried enroll or drop a no-op instead of a double count.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.utils import timezone
from pynamodb.constants import ALL_OLD
from pynamodb.exceptions import CancellationReason, TransactWriteError
from pynamodb.transactions import TransactWrite

from accounts.models import Actor
from courseproject.api.errors import ConflictError, NotFoundError, PermissionDeniedError
from courseproject.background.events import announce
from courseproject.dynamo.transactions import commit_transaction
from courses.models import Course
from courses.selectors import cached_course
from enrollments.models import Enrollment, EnrollmentStatus, enrollment_id_for
from enrollments.serializers import enrollment_representation
from enrollments.signals import enrollment_changed

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EnrollResult:
    enrollment: Enrollment
    created: bool


def _reason(reasons: list[CancellationReason | None], position: int) -> CancellationReason | None:
    return reasons[position] if position < len(reasons) else None


def _announce(*, action: str, actor: Actor, enrollment: Enrollment, before: dict | None) -> None:
    announce(
        enrollment_changed,
        sender=Enrollment,
        user_id=enrollment.user_id,
        course_id=enrollment.course_id,
        semester_id=int(enrollment.semester_id),
        action=action,
        actor_id=actor.user_id,
        before=before,
        enrollment=enrollment_representation(enrollment),
    )


def enroll(*, actor: Actor, course_id: str) -> EnrollResult:
    """Enroll the acting student; enrolling again while enrolled returns the existing record."""
    if not actor.is_student:
        raise PermissionDeniedError("Only students can enroll in courses.")
    # The semester never changes, so the cached course is good enough; the transaction's condition
    # is what decides whether the course still exists and has a seat.
    semester_id = int(cached_course(course_id=course_id)["semester_id"])
    now = timezone.now()
    enrollment = Enrollment(
        enrollment_id=enrollment_id_for(user_id=actor.user_id, course_id=course_id),
        user_id=actor.user_id,
        course_id=course_id,
        semester_id=semester_id,
        status=EnrollmentStatus.ENROLLED.value,
        enrolled_at=now,
        dropped_at=None,
        updated_at=now,
    )

    def build(transaction: TransactWrite) -> None:
        transaction.update(
            Enrollment(enrollment.enrollment_id),
            actions=[
                Enrollment.user_id.set(enrollment.user_id),
                Enrollment.course_id.set(course_id),
                Enrollment.semester_id.set(semester_id),
                Enrollment.status.set(EnrollmentStatus.ENROLLED.value),
                Enrollment.enrolled_at.set(now),
                Enrollment.updated_at.set(now),
                Enrollment.dropped_at.remove(),
            ],
            condition=Enrollment.enrollment_id.does_not_exist() | (Enrollment.status == EnrollmentStatus.DROPPED.value),
            return_values=ALL_OLD,
        )
        transaction.update(
            Course(course_id),
            actions=[Course.enrolled_count.add(1), Course.revision.add(1)],
            condition=Course.course_id.exists() & (Course.enrolled_count < Course.capacity),
            return_values=ALL_OLD,
        )

    try:
        commit_transaction(build)
    except TransactWriteError as error:
        enrollment_reason = _reason(error.cancellation_reasons, 0)
        course_reason = _reason(error.cancellation_reasons, 1)
        already_enrolled = enrollment_reason is not None and enrollment_reason.code == "ConditionalCheckFailed"
        if already_enrolled and enrollment_reason.raw_item:
            return EnrollResult(enrollment=Enrollment.from_raw_data(enrollment_reason.raw_item), created=False)
        if course_reason is not None and course_reason.code == "ConditionalCheckFailed":
            if not course_reason.raw_item:
                raise NotFoundError("Course not found.", code="course_not_found") from None
            raise ConflictError("This course is full.", code="course_full") from None
        raise
    # The previous record (new, or dropped before) is not read on this hot path: `before` is None.
    _announce(action="enrolled", actor=actor, enrollment=enrollment, before=None)
    return EnrollResult(enrollment=enrollment, created=True)


def drop(*, actor: Actor, user_id: str, course_id: str) -> Enrollment:
    """Drop a student's enrollment; the record stays with status `dropped` and frees the seat.

    A student drops their own enrollment; an admin (through the admin site) may drop anyone's.
    """
    if actor.user_id != user_id and not actor.is_admin:
        # Someone else's enrollment does not exist as far as the caller may know.
        raise NotFoundError("You have no enrollment in this course.", code="not_enrolled")
    try:
        enrollment = Enrollment.get(enrollment_id_for(user_id=user_id, course_id=course_id), consistent_read=True)
    except Enrollment.DoesNotExist:
        raise NotFoundError("You have no enrollment in this course.", code="not_enrolled") from None
    now = timezone.now()

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
            actions=[Course.enrolled_count.add(-1), Course.revision.add(1)],
            condition=Course.course_id.exists() & (Course.enrolled_count > 0),
        )

    try:
        commit_transaction(build)
    except TransactWriteError as error:
        enrollment_reason = _reason(error.cancellation_reasons, 0)
        course_reason = _reason(error.cancellation_reasons, 1)
        if enrollment_reason is not None and enrollment_reason.code == "ConditionalCheckFailed":
            raise NotFoundError("You have no enrollment in this course.", code="not_enrolled") from None
        if course_reason is not None and course_reason.code == "ConditionalCheckFailed":
            # Deleting a course requires no enrollments, so this means the counter drifted.
            logger.error("Seat counter of course %s disagrees with the enrollment of %s", course_id, user_id)
            raise ConflictError(
                "This course's seat count is inconsistent; staff have been alerted.", code="seat_counter_mismatch"
            ) from None
        raise
    before = enrollment_representation(enrollment)
    enrollment.status = EnrollmentStatus.DROPPED.value
    enrollment.dropped_at = now
    enrollment.updated_at = now
    _announce(action="dropped", actor=actor, enrollment=enrollment, before=before)
    return enrollment
