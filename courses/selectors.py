"""Reads of courses: every list is a GSI query (never a full-table read), and every hot read goes through Redis.

A course is cached as two entries: the course without its seats (rewritten by edits) and its seats
(rewritten after every enroll, drop and waitlist move), JSON objects spliced together as bytes when
served. List pages hold course ids only, so an edit or an enrollment never invalidates a page: only
a change of membership or order does (courses/signals.py).
"""

from __future__ import annotations

from typing import Any

import orjson

from courseproject.api.errors import NotFoundError
from courseproject.api.pagination import Page, query_page
from courseproject.api.rendering import dumps
from courseproject.caching import keys
from courseproject.caching.entities import cached_entities, cached_entity, fill_entities
from courseproject.caching.id_pages import IdPage, cached_id_page
from courseproject.caching.items import ItemEntries, cached_item, cached_items, merge_objects
from courseproject.dynamo.batch import batch_get
from courses.hot_semesters import note_semester_read
from courses.models import Course
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


# What a seats entry holds: the counts that change with enrollments and waitlists, their limits, and
# what they leave free; the course's own entry holds every other field.
SEAT_FIELDS = ("capacity", "enrolled_count", "seats_available", "waitlist_capacity", "waitlisted_count")


def seats_payload(course: Course) -> bytes:
    return dumps(
        {
            "capacity": int(course.capacity),
            "enrolled_count": int(course.enrolled_count),
            "seats_available": course.seats_available,
            "waitlist_capacity": int(course.waitlist_capacity),
            "waitlisted_count": int(course.waitlisted_count or 0),
        }
    )


def seats_payload_of(representation: dict[str, Any]) -> bytes:
    """The seats entry of a course representation (course_representation's)."""
    return dumps({field: representation[field] for field in SEAT_FIELDS})


def course_entry_payload(representation: dict[str, Any]) -> bytes:
    """The course's own entry: its representation without the seat fields, which its seats entry holds."""
    return dumps({field: value for field, value in representation.items() if field not in SEAT_FIELDS})


def _load_seats(course_ids: list[str]) -> dict[str, tuple[int, bytes]]:
    # Consistent reads: a seat entry must never be filled with a value older than the table's.
    courses = batch_get(Course, course_ids, consistent_read=True, attributes=SEAT_ATTRIBUTES)
    return {course_id: (int(course.revision), seats_payload(course)) for course_id, course in courses.items()}


def _load_course_entries(course_ids: list[str]) -> dict[str, tuple[int, tuple[bytes, bytes]]]:
    # Consistent reads, as for seats: an entry is never filled with a value older than the table's.
    courses = batch_get(Course, course_ids, consistent_read=True)
    entries = {}
    for course_id, course in courses.items():
        representation = course_representation(course)
        entries[course_id] = (
            int(course.revision),
            (course_entry_payload(representation), seats_payload_of(representation)),
        )
    return entries


# A course as lists serve it: its own entry with its seats entry spliced in.
COURSE_ITEMS = ItemEntries(families=(keys.course_detail, keys.course_seats), load=_load_course_entries)


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
    return int(course.revision), course_entry_payload(course_representation(course))


def _cached_course_entry(course_id: str) -> bytes:
    payload, _ = cached_entity(keys.course_detail(course_id), load=lambda: _load_course_entity(course_id))
    if payload is None:
        raise NotFoundError("Course not found.", code="course_not_found")
    return payload


def cached_course(*, course_id: str) -> dict[str, Any]:
    """The course without its seats, from the cache (or DynamoDB on a miss), 404 if absent: for
    callers that need what only edits change (semester, instructor, title)."""
    return orjson.loads(_cached_course_entry(course_id))


def course_detail_json(*, course_id: str) -> bytes:
    """GET /api/courses/{id}: the course with its current seats spliced in."""
    if (item := cached_item(COURSE_ITEMS, course_id)) is not None:
        return item
    entry = _cached_course_entry(course_id)
    seats, _ = cached_entities({course_id: keys.course_seats(course_id)}, load_missing=_load_seats)
    if course_id not in seats:  # deleted since the entry was read
        raise NotFoundError("Course not found.", code="course_not_found")
    return merge_objects([entry, seats[course_id]])


def cached_courses(*, course_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Many courses (with current seats) by id, for lists that embed them; absent ids are left out."""
    return {course_id: orjson.loads(item) for course_id, item in cached_items(course_ids, items=COURSE_ITEMS).items()}


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


def course_id_page(page: Page[Course]) -> IdPage:
    """What a list page caches: its courses' ids (each course is served from its own entries)."""
    return IdPage(ids=[course.course_id for course in page.items], next_cursor=page.next_cursor)


def course_list_json(*, semester_id: int, department_id: int | None, limit: int, cursor: str | None) -> bytes:
    page = cached_id_page(
        keys.course_list(semester_id=semester_id, department_id=department_id, limit=limit, cursor=cursor),
        generation_key=keys.course_list_generation(semester_id),
        items=COURSE_ITEMS,
        load_ids=lambda: course_id_page(
            course_models_for_semester(semester_id=semester_id, department_id=department_id, limit=limit, cursor=cursor)
        ),
        load_uncached=lambda: dumps(
            courses_for_semester(
                semester_id=semester_id, department_id=department_id, limit=limit, cursor=cursor
            ).as_response()
        ),
    )
    if page.ids:
        # Only a semester with courses counts as browsed: listing unknown ids makes warming load nothing.
        note_semester_read(semester_id)
    return page.body


def instructor_courses_json(*, instructor_id: str, limit: int, cursor: str | None) -> bytes:
    return cached_id_page(
        keys.instructor_courses(instructor_id=instructor_id, limit=limit, cursor=cursor),
        generation_key=keys.instructor_courses_generation(instructor_id),
        items=COURSE_ITEMS,
        load_ids=lambda: course_id_page(
            course_models_for_instructor(instructor_id=instructor_id, limit=limit, cursor=cursor)
        ),
        load_uncached=lambda: dumps(
            courses_for_instructor(instructor_id=instructor_id, limit=limit, cursor=cursor).as_response()
        ),
    ).body
