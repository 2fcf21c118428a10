"""Rosters as CSV for the admin: streamed a page of 100 students at a time, so a large course (or many
selected courses) never sits whole in memory, and the first rows leave before the last are read.
Every export is in the audit log (roster_exported)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import Any

from django.http import StreamingHttpResponse

from accounts.selectors import cached_profiles
from courseproject.background.events import announce
from courses.models import Course
from courses.selectors import course_by_id
from enrollments.events import roster_exported
from enrollments.models import Enrollment, EnrollmentStatus
from enrollments.selectors import enrollment_models_for_course

ROSTER_COLUMNS = ["course_code", "semester_id", "course_id", "student_name", "student_email", "user_id", "enrolled_at"]
PAGE_SIZE = 100


def roster_rows(course: Course) -> Iterator[list[Any]]:
    """The course's enrolled students, one row each, reading the roster a page at a time."""
    cursor: str | None = None
    while True:
        page = enrollment_models_for_course(
            course_id=course.course_id, status=EnrollmentStatus.ENROLLED.value, limit=PAGE_SIZE, cursor=cursor
        )
        students = cached_profiles(user_ids=[enrollment.user_id for enrollment in page.items])
        for enrollment in page.items:
            student = students.get(enrollment.user_id) or {}
            yield [
                course.course_code,
                int(course.semester_id),
                course.course_id,
                student.get("name", ""),
                student.get("email", ""),
                enrollment.user_id,
                enrollment.enrolled_at.isoformat(),
            ]
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def csv_safe(value: Any) -> Any:
    """Names are typed by students: a cell starting like a formula would run in a spreadsheet."""
    if isinstance(value, str) and value[:1] in {"=", "+", "-", "@", "\t", "\r"}:
        return "'" + value
    return value


class _Line:
    """csv.writer's file: hands back each line it is given instead of keeping it."""

    def write(self, line: str) -> str:
        return line


def _csv_lines(rows: Iterable[list[Any]]) -> Iterator[str]:
    writer = csv.writer(_Line())
    yield writer.writerow(ROSTER_COLUMNS)
    for row in rows:
        yield writer.writerow([csv_safe(cell) for cell in row])


def _rosters(course_ids: list[str]) -> Iterator[list[Any]]:
    for course_id in course_ids:
        course = course_by_id(course_id=course_id)
        if course is not None:
            yield from roster_rows(course)


def roster_csv_response(course_ids: list[str], *, filename: str, actor_id: str) -> StreamingHttpResponse:
    announce(roster_exported, sender=Enrollment, actor_id=actor_id, course_ids=list(course_ids), channel="admin")
    response = StreamingHttpResponse(_csv_lines(_rosters(course_ids)), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def roster_filename(course: Course) -> str:
    return f"roster-{course.course_code.replace(' ', '-')}-{int(course.semester_id)}.csv"
