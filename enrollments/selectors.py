"""Reads of enrollments. Pages are cached per student and per course; the items they embed (courses,
students) come from the entity cache, one MGET for the page, so an edit of a course or a profile
shows everywhere at once without invalidating anyone's pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from accounts.models import Actor
from accounts.selectors import cached_profiles
from courseproject.api.errors import NotFoundError
from courseproject.api.pagination import Page, query_page
from courseproject.api.rendering import dumps
from courseproject.caching import keys
from courseproject.caching.pages import cached_page
from courseproject.dynamo.batch import batch_get_items
from courses.permissions import ensure_can_manage
from courses.selectors import cached_course, cached_courses
from enrollments.models import Enrollment, EnrollmentStatus, Schedule, Transcript, enrollment_id_for
from enrollments.serializers import enrollment_representation
from enrollments.waitlist_order import waitlist_positions, waitlisted_user_ids
from semesters.models import Semester


def enrollment_for_student(*, user_id: str, course_id: str) -> dict[str, Any]:
    try:
        enrollment = Enrollment.get(enrollment_id_for(user_id=user_id, course_id=course_id), consistent_read=True)
    except Enrollment.DoesNotExist:
        raise NotFoundError("You have no enrollment in this course.", code="not_enrolled") from None
    return with_waitlist_positions([enrollment_representation(enrollment)], user_id=user_id)[0]


def with_waitlist_positions(entries: list[dict[str, Any]], *, user_id: str) -> list[dict[str, Any]]:
    """Lay the student's current waitlist positions over their waitlisted entries (in place): they
    move as others leave or are promoted, so pages are cached without them."""
    waiting = [entry for entry in entries if entry["status"] == EnrollmentStatus.WAITLISTED]
    if waiting:
        positions = waitlist_positions(user_id=user_id, course_ids=[entry["course_id"] for entry in waiting])
        for entry in waiting:
            entry["waitlist_position"] = positions.get(entry["course_id"])
    return entries


def student_enrollments_scope(*, user_id: str, semester_id: int | None, status: str | None) -> str:
    """What a cursor of the student's enrollments is bound to (enrollments/cached_pages.py reads them too)."""
    return f"enrollments:user:{user_id}:{semester_id or '*'}:{status or '*'}"


def roster_scope(*, course_id: str, status: str) -> str:
    """What a cursor of a course's roster (or of its waitlist) is bound to."""
    return f"waitlist:{course_id}" if status == EnrollmentStatus.WAITLISTED else f"roster:{course_id}"


def _student_enrollments_page(
    *, user_id: str, semester_id: int | None, status: str | None, limit: int, cursor: str | None
) -> bytes:
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
        scope=student_enrollments_scope(user_id=user_id, semester_id=semester_id, status=status),
        limit=limit,
        cursor=cursor,
    )
    body = page.map(lambda enrollments: [enrollment_representation(item) for item in enrollments]).as_response()
    body["credits_by_semester"] = credits_by_semester(
        user_id=user_id, semester_ids=sorted({int(item.semester_id) for item in page.items}, reverse=True)
    )
    return dumps(body)


# A schedule's credit total, without its courses' meetings (the bulk of the item).
CREDITS_ONLY = {Schedule: ["enrolled_credits"]}


def credits_by_semester(*, user_id: str, semester_ids: list[int]) -> dict[str, int]:
    """The student's enrolled credits in each of these semesters (from their schedules, one BatchGetItem)."""
    if not semester_ids:
        return {}
    schedules = batch_get_items(
        [(Schedule, (user_id, semester_id)) for semester_id in semester_ids], attributes=CREDITS_ONLY
    )
    return {
        str(semester_id): int(schedule.enrolled_credits) if schedule is not None else 0
        for semester_id, schedule in zip(semester_ids, schedules, strict=True)
    }


def enrollments_for_student_json(
    *, user_id: str, semester_id: int | None, status: str | None, limit: int, cursor: str | None
) -> bytes:
    """A student's enrollments, newest first, each with its course (null if since deleted), and the
    student's enrolled credits in each semester on the page."""
    page_json, _ = cached_page(
        keys.my_enrollments(user_id=user_id, semester_id=semester_id, status=status, limit=limit, cursor=cursor),
        generation_key=keys.my_enrollments_generation(user_id),
        load=lambda: _student_enrollments_page(
            user_id=user_id, semester_id=semester_id, status=status, limit=limit, cursor=cursor
        ),
        copied=True,  # a student checks their own often; any change rewrites or bumps them, which Redis tells
    )
    page = orjson.loads(page_json)
    courses = cached_courses(course_ids=[entry["course_id"] for entry in page["results"]])
    for entry in page["results"]:
        entry["course"] = courses.get(entry["course_id"])
    with_waitlist_positions(page["results"], user_id=user_id)
    return dumps(page)


def _roster_page(*, course_id: str, status: str, limit: int, cursor: str | None) -> bytes:
    if status == EnrollmentStatus.WAITLISTED:
        page = query_page(
            Enrollment.waitlist_by_course,
            course_id,
            scope=roster_scope(course_id=course_id, status=status),
            limit=limit,
            cursor=cursor,
        )
    else:
        page = query_page(
            Enrollment.by_course,
            course_id,
            filter_condition=Enrollment.status == EnrollmentStatus.ENROLLED.value,
            scope=roster_scope(course_id=course_id, status=status),
            limit=limit,
            cursor=cursor,
        )
    return dumps(page.map(lambda enrollments: [enrollment_representation(item) for item in enrollments]).as_response())


def roster_json(*, actor: Actor, course_id: str, status: str, limit: int, cursor: str | None) -> bytes:
    """The students enrolled in a course in enrollment order, or waiting for it in waitlist order, for
    its instructor or an admin."""
    course = cached_course(course_id=course_id)
    ensure_can_manage(actor, instructor_id=course["instructor_id"])
    page_json, _ = cached_page(
        keys.roster(course_id=course_id, status=status, limit=limit, cursor=cursor),
        generation_key=keys.roster_generation(course_id),
        load=lambda: _roster_page(course_id=course_id, status=status, limit=limit, cursor=cursor),
    )
    page = orjson.loads(page_json)
    students = cached_profiles(user_ids=[entry["user_id"] for entry in page["results"]])
    waiting = waitlisted_user_ids(course_id=course_id) if status == EnrollmentStatus.WAITLISTED else []
    for entry in page["results"]:
        student = students.get(entry["user_id"])
        entry["student"] = (
            {"user_id": student["user_id"], "name": student["name"], "email": student["email"]} if student else None
        )
        if entry["user_id"] in waiting:
            entry["waitlist_position"] = waiting.index(entry["user_id"]) + 1
    return dumps(page)


# --- The admin's reads: every status, straight from DynamoDB ----------------------------------------


def _status_filter(status: str | None) -> Any:
    return Enrollment.status == status if status else None


def enrollment_models_for_course(*, course_id: str, status: str | None, limit: int, cursor: str | None) -> Page:
    return query_page(
        Enrollment.by_course,
        course_id,
        filter_condition=_status_filter(status),
        scope=f"admin:enrollments:course:{course_id}:{status or '*'}",
        limit=limit,
        cursor=cursor,
    )


def enrollment_models_for_student(*, user_id: str, status: str | None, limit: int, cursor: str | None) -> Page:
    return query_page(
        Enrollment.by_user,
        user_id,
        filter_condition=_status_filter(status),
        newest_first=True,
        scope=f"admin:enrollments:user:{user_id}:{status or '*'}",
        limit=limit,
        cursor=cursor,
    )


# A student has a schedule for each semester they registered in: a few a year.
MAX_SCHEDULES_SHOWN = 20


@dataclass(frozen=True)
class SemesterSchedule:
    schedule: Schedule
    semester: Semester | None  # None for a semester without a record


@dataclass(frozen=True)
class AcademicRecord:
    """A student's schedules (newest semester first, with each semester's rules) and transcript."""

    schedules: list[SemesterSchedule]
    transcript: Transcript | None


def academic_record(*, user_id: str) -> AcademicRecord:
    """One Query of the student's schedules, then their semesters and transcript in one BatchGetItem."""
    schedules = list(Schedule.query(user_id, scan_index_forward=False, limit=MAX_SCHEDULES_SHOWN, consistent_read=True))
    *semesters, transcript = batch_get_items(
        [*((Semester, int(schedule.semester_id)) for schedule in schedules), (Transcript, user_id)]
    )
    return AcademicRecord(
        schedules=[
            SemesterSchedule(schedule=schedule, semester=semester)
            for schedule, semester in zip(schedules, semesters, strict=True)
        ],
        transcript=transcript,
    )
