"""Enrollment emails, sent by a worker once per enroll, drop and waitlist outcome; schedules brought
up to date after an admin changed a course's credits or meetings under enrolled students; and the
waitlist's promoter and sweep, on a queue of their own (settings.CELERY_TASK_ROUTES)."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from accounts.models import Actor, Role
from accounts.selectors import user_by_id
from courseproject.api.errors import NotFoundError
from courseproject.background.mail import Email, send_once
from courseproject.background.reliable import background_task
from courseproject.caching import keys
from courseproject.caching.pages import bump_generations
from courseproject.dynamo.batch import batch_get
from courseproject.observability.cloudwatch import push_stalled_seat_age
from courses.models import Course
from courses.selectors import cached_course
from enrollments import promotion, services
from enrollments.models import Enrollment, EnrollmentStatus, enrollment_id_for
from enrollments.promotion import fill_freed_seats, follow_up_outcome
from enrollments.records import refresh_schedule_entry
from semesters.models import Semester

logger = logging.getLogger(__name__)

SUBJECTS = {
    "enrolled": "You are enrolled in {course_code}: {title}",
    "dropped": "You have dropped {course_code}: {title}",
    "promoted": "A seat opened: you are enrolled in {course_code}: {title}",
    "waitlist_skipped": "You were passed over on the waitlist of {course_code}: {title}",
    "waitlist_expired": "The waitlist of {course_code}: {title} has closed",
}

# Why a student was passed over on a waitlist, by the rule's code, in the words of their email.
SKIP_REASONS = {
    "time_conflict": "it meets at the same time as a course you are enrolled in.",
    "credit_limit_exceeded": "its credits would take you past the semester's credit limit.",
    "registration_closed": "registration for the semester is closed.",
    "prerequisites_missing": "you no longer have its prerequisites.",
}


@background_task("enrollments.send_enrollment_email")
def send_enrollment_email(
    *, event_id: str, action: str, user_id: str, course_id: str, enrollment: dict[str, Any]
) -> str:
    """Send the confirmation (enrolled), notice (dropped) or waitlist outcome; returns what happened."""

    def compose() -> Email | str:
        student = user_by_id(user_id=user_id)
        try:
            course = cached_course(course_id=course_id)
        except NotFoundError:
            course = None
        if student is None or course is None:
            return "recipient or course gone"
        reason = SKIP_REASONS.get(enrollment.get("skip_reason") or "", "you no longer met a registration rule.")
        return Email(
            subject=SUBJECTS[action].format(course_code=course["course_code"], title=course["title"]),
            template=f"enrollments/email/{action}",
            context={
                "student": student,
                "course": course,
                "enrollment": enrollment,
                "action": action,
                "reason": reason,
            },
            recipient_name=student.name,
            recipient_address=student.email,
        )

    return send_once(ledger_key=f"email:{action}:{event_id}", event_id=event_id, compose=compose)


@background_task("enrollments.refresh_schedules")
def refresh_schedules(*, event_id: str, course_id: str) -> int:
    """Rewrite the course's entry in every enrolled student's schedule; returns how many changed."""
    try:
        course = Course.get(course_id, consistent_read=True)
    except Course.DoesNotExist:
        return 0
    enrolled = Enrollment.by_course.query(
        course_id, filter_condition=Enrollment.status == EnrollmentStatus.ENROLLED.value
    )
    refreshed = [
        enrollment.user_id
        for enrollment in enrolled
        if refresh_schedule_entry(user_id=enrollment.user_id, course=course)
    ]
    # Their pages of enrollments carry the credit totals the schedules hold.
    bump_generations(*(keys.my_enrollments_generation(user_id) for user_id in refreshed))
    return len(refreshed)


# --- The waitlist --------------------------------------------------------------------------------


@background_task("enrollments.promote_waitlist")
def promote_waitlist(*, event_id: str, course_id: str) -> dict[str, int]:
    """Give the course's free seats to its waitlist, in order (a no-op if nobody waits)."""
    report = fill_freed_seats(course_id=course_id)
    return {"promoted": report.promoted, "skipped": report.skipped, "expired": report.expired}


@background_task("enrollments.follow_up_waitlist_outcome")
def follow_up_waitlist_outcome(
    *, event_id: str, action: str, user_id: str, course_id: str, before: dict[str, Any]
) -> str:
    """A committed waitlist outcome whose promoter died before following it up (relayed from the outbox)."""
    try:
        enrollment = Enrollment.get(enrollment_id_for(user_id=user_id, course_id=course_id), consistent_read=True)
    except Enrollment.DoesNotExist:
        return "enrollment gone"
    follow_up_outcome(
        event_id=event_id, action=action, user_id=user_id, course_id=course_id, before=before, enrollment=enrollment
    )
    return "followed up"


@shared_task(name="enrollments.sweep_waitlists", ignore_result=True, expires=settings.WAITLIST_SWEEP_INTERVAL_SECONDS)
def sweep_waitlists() -> dict[str, float]:
    """Beat's: fill free seats someone waits for (a lost promotion), expire waitlists past the add deadline."""
    report = promotion.sweep_waitlists()
    push_stalled_seat_age(report.stalled_seat_seconds)
    if report.promoted or report.skipped or report.expired:
        logger.info(
            "Waitlist sweep over %d courses: %d promoted, %d skipped, %d expired; oldest free seat %.1f s",
            report.courses,
            report.promoted,
            report.skipped,
            report.expired,
            report.stalled_seat_seconds,
        )
    return {"courses": report.courses, "promoted": report.promoted, "stalled_seat_seconds": report.stalled_seat_seconds}


@background_task("enrollments.release_student")
def release_student(*, event_id: str, user_id: str, actor_id: str) -> int:
    """A deactivated student's seats (in semesters whose drop deadline is ahead) and waitlist places
    are released, as the admin who deactivated them; returns how many. Each drop hands its seat on."""
    admin = Actor(user_id=actor_id, role=Role.ADMIN)
    held = list(
        Enrollment.by_user.query(
            user_id, filter_condition=Enrollment.status.is_in(EnrollmentStatus.ENROLLED, EnrollmentStatus.WAITLISTED)
        )
    )
    semesters = batch_get(Semester, sorted({int(enrollment.semester_id) for enrollment in held}))
    now = timezone.now()
    released = 0
    for enrollment in held:
        semester = semesters.get(int(enrollment.semester_id))
        if (
            enrollment.status == EnrollmentStatus.ENROLLED
            and semester is not None
            and semester.drop_deadline_passed(now)
        ):
            continue  # a past semester's record is history, not a seat anyone could take
        try:
            services.drop(actor=admin, user_id=user_id, course_id=enrollment.course_id)
        except NotFoundError:
            continue  # dropped or promoted meanwhile
        released += 1
    return released
