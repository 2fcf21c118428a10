"""Reads of courses: every list is a GSI query, never a Scan."""

from __future__ import annotations

from typing import Any

from courseproject.dynamo import batch_get
from courseproject.errors import NotFoundError
from courseproject.pagination import Page, query_page
from courses.models import Course
from courses.serializers import course_representation


def course_by_id(*, course_id: str) -> Course | None:
    try:
        return Course.get(course_id, consistent_read=True)
    except Course.DoesNotExist:
        return None


def course_or_404(*, course_id: str) -> Course:
    course = course_by_id(course_id=course_id)
    if course is None:
        raise NotFoundError("Course not found.", code="course_not_found")
    return course


def course_detail(*, course_id: str) -> dict[str, Any]:
    return course_representation(course_or_404(course_id=course_id))


def courses_by_ids(*, course_ids: list[str]) -> dict[str, Course]:
    return batch_get(Course, course_ids)


def courses_for_semester(
    *, semester_id: int, department_id: int | None, limit: int, cursor: str | None
) -> Page[dict[str, Any]]:
    page = query_page(
        Course.by_semester,
        semester_id,
        range_key_condition=Course.department_id == department_id if department_id is not None else None,
        scope=f"courses:semester:{semester_id}:{department_id or '*'}",
        limit=limit,
        cursor=cursor,
    )
    return page.map(lambda courses: [course_representation(course) for course in courses])


def courses_for_instructor(*, instructor_id: str, limit: int, cursor: str | None) -> Page[dict[str, Any]]:
    page = query_page(
        Course.by_instructor,
        instructor_id,
        scope=f"courses:instructor:{instructor_id}",
        limit=limit,
        cursor=cursor,
    )
    return page.map(lambda courses: [course_representation(course) for course in courses])
