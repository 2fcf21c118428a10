"""The course_changed signal and the receivers that keep the cache in step with course writes.

course_changed(sender=Course, course_id, semester_id, department_id, instructor_id, previous_instructor_id,
               revision, action, actor_id, before, after)
    Sent by courses.services after a write succeeded. action is "created", "updated" or "deleted";
    before/after are course representations (None when absent); revision is the course's after the write.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import Signal

from courseproject.caching import keys
from courseproject.caching.entities import put_entities, put_tombstone
from courseproject.caching.pages import bump_generations
from courses.selectors import course_entry_payload, seats_payload_of

course_changed = Signal()

# What places a course in each cached list: the partition and sort keys of the GSI the list queries
# (CoursesBySemester, CoursesByInstructor), with the list's generation. A page holds ids in this
# order, so only a change of one of these (or a create or delete) changes a page.
LIST_PLACEMENTS = (
    (keys.course_list_generation, "semester_id", "department_id"),
    (keys.instructor_courses_generation, "instructor_id", "course_code"),
)


def generations_to_bump(before: dict[str, Any] | None, after: dict[str, Any] | None) -> set[str]:
    """The lists whose membership or order a write changed: the others show an edit through the
    course's entry, written through below."""
    generations: set[str] = set()
    for generation_of, partition, sort in LIST_PLACEMENTS:
        places = {(course[partition], course[sort]) for course in (before, after) if course is not None}
        if before is None or after is None or len(places) > 1:
            generations |= {generation_of(partition_value) for partition_value, _ in places}
    return generations


def refresh_course_caches(
    *, course_id: str, revision: int, before: dict[str, Any] | None, after: dict[str, Any] | None, **_: Any
) -> None:
    """Write the course and its seats through, and invalidate the lists whose membership changed."""
    if after is None:
        put_tombstone(keys.course_detail(course_id))
        put_tombstone(keys.course_seats(course_id))
    else:
        put_entities(
            [
                (keys.course_detail(course_id), revision, course_entry_payload(after)),
                (keys.course_seats(course_id), revision, seats_payload_of(after)),
            ]
        )
    bump_generations(*sorted(generations_to_bump(before, after)))
