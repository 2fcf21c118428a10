"""Enrollment emails, sent by a worker once per enroll or drop; schedules brought up to date after an
admin changed a course's credits or meetings under enrolled students."""

from __future__ import annotations

import uuid
from email.utils import formataddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from accounts.selectors import user_by_id
from courseproject.api.errors import NotFoundError
from courseproject.background import ledger
from courseproject.background.reliable import RetryLater, background_task
from courseproject.caching import keys
from courseproject.caching.pages import bump_generations
from courses.models import Course
from courses.selectors import cached_course
from enrollments.models import Enrollment, EnrollmentStatus
from enrollments.records import refresh_schedule_entry

SUBJECTS = {
    "enrolled": "You are enrolled in {course_code}: {title}",
    "dropped": "You have dropped {course_code}: {title}",
}


@background_task("enrollments.send_enrollment_email")
def send_enrollment_email(
    *, event_id: str, action: str, user_id: str, course_id: str, enrollment: dict[str, Any]
) -> str:
    """Send the confirmation (enrolled) or notice (dropped); returns what happened, for logs and tests."""
    ledger_key = f"email:{action}:{event_id}"
    owner = uuid.uuid4().hex
    # Longer than the task may run, so a live send is never taken over.
    claim = ledger.claim(ledger_key, owner=owner, lease_seconds=settings.CELERY_TASK_TIME_LIMIT + 30)
    if claim == ledger.Claim.DONE:
        return "already sent"
    if claim == ledger.Claim.BUSY:
        raise RetryLater(f"{ledger_key} is being sent by another worker")
    student = user_by_id(user_id=user_id)
    try:
        course = cached_course(course_id=course_id)
    except NotFoundError:
        course = None
    if student is None or course is None:
        ledger.complete(ledger_key, owner=owner)
        return "recipient or course gone"
    context = {"student": student, "course": course, "enrollment": enrollment, "action": action}
    message = EmailMultiAlternatives(
        subject=SUBJECTS[action].format(course_code=course["course_code"], title=course["title"]),
        body=render_to_string(f"enrollments/email/{action}.txt", context),
        to=[formataddr((student.name, student.email))],
        headers={"X-Course-Registration-Event": event_id},
    )
    message.attach_alternative(render_to_string(f"enrollments/email/{action}.html", context), "text/html")
    try:
        message.send()
    except Exception:
        ledger.release(ledger_key, owner=owner)
        raise
    ledger.complete(ledger_key, owner=owner)
    return "sent"


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
