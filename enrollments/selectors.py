"""Reads of enrollments. Lists embed related items fetched with one BatchGetItem, not a read per row."""

from __future__ import annotations

from typing import Any

from accounts.selectors import users_by_ids
from courseproject.errors import NotFoundError
from courseproject.pagination import Page, query_page
from courses.selectors import courses_by_ids
from courses.serializers import course_representation
from enrollments.models import Enrollment, EnrollmentStatus, enrollment_id_for
from enrollments.serializers import enrollment_representation


def enrollment_for_student(*, user_id: str, course_id: str) -> dict[str, Any]:
    try:
        enrollment = Enrollment.get(enrollment_id_for(user_id=user_id, course_id=course_id), consistent_read=True)
    except Enrollment.DoesNotExist:
        raise NotFoundError("You have no enrollment in this course.", code="not_enrolled") from None
    return enrollment_representation(enrollment)


def enrollments_for_student(
    *, user_id: str, semester_id: int | None, status: str | None, limit: int, cursor: str | None
) -> Page[dict[str, Any]]:
    """A student's enrollments, newest first, each with its course."""
    filter_condition = None
    if semester_id is not None:
        filter_condition = Enrollment.semester_id == semester_id
    if status is not None:
        status_condition = Enrollment.status == status
        filter_condition = status_condition if filter_condition is None else filter_condition & status_condition
    page = query_page(
        Enrollment.by_user,
        user_id,
        filter_condition=filter_condition,
        newest_first=True,
        scope=f"enrollments:user:{user_id}:{semester_id or '*'}:{status or '*'}",
        limit=limit,
        cursor=cursor,
    )
    courses = courses_by_ids(course_ids=[enrollment.course_id for enrollment in page.items])

    def with_course(enrollment: Enrollment) -> dict[str, Any]:
        course = courses.get(enrollment.course_id)
        return {
            **enrollment_representation(enrollment),
            "course": course_representation(course) if course is not None else None,
        }

    return page.map(lambda enrollments: [with_course(enrollment) for enrollment in enrollments])


def roster_for_course(*, course_id: str, limit: int, cursor: str | None) -> Page[dict[str, Any]]:
    """The students currently enrolled in a course, in enrollment order, each with name and email."""
    page = query_page(
        Enrollment.by_course,
        course_id,
        filter_condition=Enrollment.status == EnrollmentStatus.ENROLLED.value,
        scope=f"roster:{course_id}",
        limit=limit,
        cursor=cursor,
    )
    students = users_by_ids(user_ids=[enrollment.user_id for enrollment in page.items])

    def with_student(enrollment: Enrollment) -> dict[str, Any]:
        student = students.get(enrollment.user_id)
        summary = {"user_id": student.user_id, "name": student.name, "email": student.email} if student else None
        return {**enrollment_representation(enrollment), "student": summary}

    return page.map(lambda enrollments: [with_student(enrollment) for enrollment in enrollments])
