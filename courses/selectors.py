"""Reads of courses: every list is a GSI query (never a full-table read), and every hot read goes through Redis.

Seat counts change far more often than course data, so they are cached on their own (one small
entry per course, written through after every enroll and drop) and laid over list pages and details
when they are served. An enrollment therefore never invalidates a semester's pages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from courseproject.api.errors import NotFoundError
from courseproject.api.pagination import Page, query_page
from courseproject.api.rendering import dumps
from courseproject.caching import keys
from courseproject.caching.entities import cached_entities, cached_entity, fill_entities
from courseproject.caching.pages import cached_page
from courseproject.dynamo.batch import batch_get
from courses.hot_semesters import note_semester_read
from courses.models import Course, seats_available
from courses.serializers import course_representation

SEAT_ATTRIBUTES = ["course_id", "revision", "enrolled_count", "capacity", "waitlisted_count", "waitlist_capacity"]


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


# --- Seats ---------------------------------------------------------------------------------------


# What a seats entry holds: the counts that change with enrollments and waitlists, and their limits.
SEAT_FIELDS = ("enrolled_count", "capacity", "waitlisted_count", "waitlist_capacity")


def seats_payload(course: Course) -> bytes:
    return dumps(
        {
            "enrolled_count": int(course.enrolled_count),
            "capacity": int(course.capacity),
            "waitlisted_count": int(course.waitlisted_count or 0),
            "waitlist_capacity": int(course.waitlist_capacity),
        }
    )


def seats_payload_of(representation: dict[str, Any]) -> bytes:
    """The seats entry of a course representation (course_representation's)."""
    return dumps({field: representation[field] for field in SEAT_FIELDS})


def _load_seats(course_ids: list[str]) -> dict[str, tuple[int, bytes]]:
    # Consistent reads: a seat entry must never be filled with a value older than the table's.
    courses = batch_get(Course, course_ids, consistent_read=True, attributes=SEAT_ATTRIBUTES)
    return {course_id: (int(course.revision), seats_payload(course)) for course_id, course in courses.items()}


def with_current_seats(courses: list[dict[str, Any]], *, from_cache: bool) -> list[dict[str, Any]]:
    """Lay the current seat counts over course representations (in place).

    Only needed when the courses came from the cache: loaded from DynamoDB just now, their own
    counts are current. The seats come from their own cache entries, or consistent reads.
    """
    if not courses or not from_cache:
        return courses
    seat_payloads, _ = cached_entities(
        {course["course_id"]: keys.course_seats(course["course_id"]) for course in courses},
        load_missing=_load_seats,
    )
    for course in courses:
        payload = seat_payloads.get(course["course_id"])
        if payload is not None:
            seats = orjson.loads(payload)
            course.update(seats)
            course["seats_available"] = seats_available(
                capacity=seats["capacity"],
                enrolled_count=seats["enrolled_count"],
                waitlisted_count=seats["waitlisted_count"],
            )
    return courses


# --- Details -------------------------------------------------------------------------------------


def _prime_seats(courses: list[Course]) -> None:
    """A consistent read of a course also gives its current seats: cache them as well."""
    fill_entities(
        [(keys.course_seats(course.course_id), int(course.revision), seats_payload(course)) for course in courses]
    )


def _load_course_entity(course_id: str) -> tuple[int, bytes] | None:
    course = course_by_id(course_id=course_id)
    if course is None:
        return None
    _prime_seats([course])
    return int(course.revision), dumps(course_representation(course))


def _cached_course_entry(course_id: str) -> tuple[dict[str, Any], bool]:
    payload, from_cache = cached_entity(keys.course_detail(course_id), load=lambda: _load_course_entity(course_id))
    if payload is None:
        raise NotFoundError("Course not found.", code="course_not_found")
    return orjson.loads(payload), from_cache


def cached_course(*, course_id: str) -> dict[str, Any]:
    """The course's data from the cache (or DynamoDB on a miss), 404 if absent; its seat counts may
    be stale, so it serves callers that need what does not change with enrollments (semester,
    instructor, title)."""
    return _cached_course_entry(course_id)[0]


def course_detail_json(*, course_id: str) -> bytes:
    """GET /api/courses/{id}: the course with its current seats."""
    course, from_cache = _cached_course_entry(course_id)
    return dumps(with_current_seats([course], from_cache=from_cache)[0])


def _load_course_entities(course_ids: list[str]) -> dict[str, tuple[int, bytes]]:
    courses = batch_get(Course, course_ids, consistent_read=True)
    _prime_seats(list(courses.values()))
    return {
        course_id: (int(course.revision), dumps(course_representation(course))) for course_id, course in courses.items()
    }


def cached_courses(*, course_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Many courses (with current seats) by id, for lists that embed them; absent ids are left out."""
    payloads, from_cache = cached_entities(
        {course_id: keys.course_detail(course_id) for course_id in course_ids}, load_missing=_load_course_entities
    )
    courses = [orjson.loads(payload) for payload in payloads.values()]
    return {course["course_id"]: course for course in with_current_seats(courses, from_cache=from_cache)}


# --- Lists ---------------------------------------------------------------------------------------


def courses_with_code(*, course_code: str) -> list[Course]:
    """Every semester's course with this code (the admin's lookup)."""
    keys_only = Course.by_code.query(course_code.strip().upper(), limit=100)
    return list(batch_get(Course, [item.course_id for item in keys_only], consistent_read=True).values())


def course_models_for_semester(
    *, semester_id: int, department_id: int | None, limit: int, cursor: str | None
) -> Page[Course]:
    return query_page(
        Course.by_semester,
        semester_id,
        range_key_condition=Course.department_id == department_id if department_id is not None else None,
        scope=f"courses:semester:{semester_id}:{department_id or '*'}",
        limit=limit,
        cursor=cursor,
    )


def course_models_for_instructor(*, instructor_id: str, limit: int, cursor: str | None) -> Page[Course]:
    return query_page(
        Course.by_instructor, instructor_id, scope=f"courses:instructor:{instructor_id}", limit=limit, cursor=cursor
    )


def courses_for_semester(
    *, semester_id: int, department_id: int | None, limit: int, cursor: str | None
) -> Page[dict[str, Any]]:
    page = course_models_for_semester(semester_id=semester_id, department_id=department_id, limit=limit, cursor=cursor)
    return page.map(lambda courses: [course_representation(course) for course in courses])


def courses_for_instructor(*, instructor_id: str, limit: int, cursor: str | None) -> Page[dict[str, Any]]:
    page = course_models_for_instructor(instructor_id=instructor_id, limit=limit, cursor=cursor)
    return page.map(lambda courses: [course_representation(course) for course in courses])


def _with_current_seats_json(page_json: bytes, *, from_cache: bool) -> bytes:
    if not from_cache:
        return page_json
    page = orjson.loads(page_json)
    with_current_seats(page["results"], from_cache=True)
    return dumps(page)


def semester_page_loader(
    *, semester_id: int, department_id: int | None, limit: int, cursor: str | None
) -> Callable[[], bytes]:
    """What a miss of a semester's list page runs (readers and cache warming alike)."""
    return lambda: dumps(
        courses_for_semester(
            semester_id=semester_id, department_id=department_id, limit=limit, cursor=cursor
        ).as_response()
    )


def course_list_json(*, semester_id: int, department_id: int | None, limit: int, cursor: str | None) -> bytes:
    page_json, from_cache = cached_page(
        keys.course_list(semester_id=semester_id, department_id=department_id, limit=limit, cursor=cursor),
        generation_key=keys.course_list_generation(semester_id),
        load=semester_page_loader(semester_id=semester_id, department_id=department_id, limit=limit, cursor=cursor),
    )
    page = orjson.loads(page_json)
    if page["results"]:
        # Only a semester with courses counts as browsed: listing unknown ids makes warming load nothing.
        note_semester_read(semester_id)
    if not from_cache:
        return page_json
    with_current_seats(page["results"], from_cache=True)
    return dumps(page)


def instructor_courses_json(*, instructor_id: str, limit: int, cursor: str | None) -> bytes:
    page_json, from_cache = cached_page(
        keys.instructor_courses(instructor_id=instructor_id, limit=limit, cursor=cursor),
        generation_key=keys.instructor_courses_generation(instructor_id),
        load=lambda: dumps(
            courses_for_instructor(instructor_id=instructor_id, limit=limit, cursor=cursor).as_response()
        ),
    )
    return _with_current_seats_json(page_json, from_cache=from_cache)
