"""Enroll and drop: each is one DynamoDB transaction over the seat counter and the enrollment.

The counter's condition (enrolled_count < capacity) is evaluated by DynamoDB inside the transaction,
so no interleaving of requests, processes or machines can oversell a seat. The enrollment's
condition makes a retried enroll or drop a no-op instead of a double count.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.utils import timezone
from pynamodb.constants import ALL_OLD
from pynamodb.exceptions import CancellationReason, TransactWriteError
from pynamodb.transactions import TransactWrite

from accounts.models import Actor
from courseproject.dynamo import shared_connection
from courseproject.errors import ConflictError, NotFoundError, PermissionDeniedError
from courses.models import Course
from courses.selectors import course_or_404
from enrollments.models import Enrollment, EnrollmentStatus, enrollment_id_for
from enrollments.serializers import enrollment_representation
from enrollments.signals import enrollment_changed

logger = logging.getLogger(__name__)

# Concurrent transactions on one hot course item are cancelled with TransactionConflict on AWS;
# a short jittered retry lets the rush through instead of failing it.
CONFLICT_RETRY_ATTEMPTS = 5


@dataclass(frozen=True)
class EnrollResult:
    enrollment: Enrollment
    created: bool


def _reason_code(reasons: list[CancellationReason | None], position: int) -> str | None:
    reason = reasons[position] if position < len(reasons) else None
    return reason.code if reason is not None else None


def _commit_with_conflict_retry(build: Callable[[TransactWrite], None]) -> None:
    for attempt in range(1, CONFLICT_RETRY_ATTEMPTS + 1):
        try:
            with TransactWrite(connection=shared_connection()) as transaction:
                build(transaction)
            return
        except TransactWriteError as error:
            codes = [reason.code for reason in error.cancellation_reasons if reason is not None]
            if "TransactionConflict" not in codes or "ConditionalCheckFailed" in codes:
                raise
            if attempt == CONFLICT_RETRY_ATTEMPTS:
                raise ConflictError(
                    "Too many students are changing this course at once; please retry.", code="transaction_conflict"
                ) from None
            time.sleep(random.uniform(0, 0.01 * 2**attempt))


def _announce(*, action: str, actor: Actor, enrollment: Enrollment) -> None:
    enrollment_changed.send(
        sender=Enrollment,
        user_id=enrollment.user_id,
        course_id=enrollment.course_id,
        semester_id=int(enrollment.semester_id),
        action=action,
        actor_id=actor.user_id,
        enrollment=enrollment_representation(enrollment),
    )


def enroll(*, actor: Actor, course_id: str) -> EnrollResult:
    """Enroll the acting student; enrolling again while enrolled returns the existing record."""
    if not actor.is_student:
        raise PermissionDeniedError("Only students can enroll in courses.")
    course = course_or_404(course_id=course_id)
    now = timezone.now()
    enrollment = Enrollment(
        enrollment_id=enrollment_id_for(user_id=actor.user_id, course_id=course_id),
        user_id=actor.user_id,
        course_id=course_id,
        semester_id=int(course.semester_id),
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
                Enrollment.semester_id.set(enrollment.semester_id),
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
            actions=[Course.enrolled_count.add(1)],
            condition=Course.course_id.exists() & (Course.enrolled_count < Course.capacity),
            return_values=ALL_OLD,
        )

    try:
        _commit_with_conflict_retry(build)
    except TransactWriteError as error:
        reasons = error.cancellation_reasons
        if _reason_code(reasons, 0) == "ConditionalCheckFailed":
            existing = reasons[0].raw_item if reasons[0] is not None else None
            if existing:
                return EnrollResult(enrollment=Enrollment.from_raw_data(existing), created=False)
        if _reason_code(reasons, 1) == "ConditionalCheckFailed":
            if reasons[1] is None or not reasons[1].raw_item:
                raise NotFoundError("Course not found.", code="course_not_found") from None
            raise ConflictError("This course is full.", code="course_full") from None
        raise
    _announce(action="enrolled", actor=actor, enrollment=enrollment)
    return EnrollResult(enrollment=enrollment, created=True)


def drop(*, actor: Actor, user_id: str, course_id: str) -> Enrollment:
    """Drop a student's enrollment; the record stays with status `dropped` and frees the seat."""
    if actor.user_id != user_id and not actor.is_admin:
        # Someone else's enrollment does not exist as far as the caller may know.
        raise NotFoundError("You have no enrollment in this course.", code="not_enrolled")
    now = timezone.now()

    def build(transaction: TransactWrite) -> None:
        transaction.update(
            Enrollment(enrollment_id_for(user_id=user_id, course_id=course_id)),
            actions=[
                Enrollment.status.set(EnrollmentStatus.DROPPED.value),
                Enrollment.dropped_at.set(now),
                Enrollment.updated_at.set(now),
            ],
            condition=Enrollment.status == EnrollmentStatus.ENROLLED.value,
            return_values=ALL_OLD,
        )
        transaction.update(
            Course(course_id),
            actions=[Course.enrolled_count.add(-1)],
            condition=Course.course_id.exists() & (Course.enrolled_count > 0),
        )

    try:
        _commit_with_conflict_retry(build)
    except TransactWriteError as error:
        reasons = error.cancellation_reasons
        if _reason_code(reasons, 0) == "ConditionalCheckFailed":
            raise NotFoundError("You have no enrollment in this course.", code="not_enrolled") from None
        if _reason_code(reasons, 1) == "ConditionalCheckFailed":
            # Deleting a course requires no enrollments, so this means the counter drifted.
            logger.error("Seat counter of course %s disagrees with enrollment of %s", course_id, user_id)
            raise ConflictError(
                "This course's seat count is inconsistent; staff have been alerted.", code="seat_counter_mismatch"
            ) from None
        raise
    enrollment = Enrollment.get(enrollment_id_for(user_id=user_id, course_id=course_id), consistent_read=True)
    _announce(action="dropped", actor=actor, enrollment=enrollment)
    return enrollment
