"""The course_changed signal and the receivers that keep the cache in step with course writes.

course_changed(sender=Course, course_id, semester_id, department_id, instructor_id, previous_instructor_id,
               revision, action, actor_id, before, after)
    Sent by courses.services after a write succeeded. action is "created", "updated" or "deleted";
    before/after are course representations (None when absent); revision is the course's after the write.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import Signal

from courseproject.api.rendering import dumps
from courseproject.caching import keys
from courseproject.caching.entities import put_entity, put_tombstone
from courseproject.caching.pages import bump_generations
from courses.selectors import seats_payload_of

course_changed = Signal()


def refresh_course_caches(
    *,
    course_id: str,
    semester_id: int,
    instructor_id: str,
    previous_instructor_id: str | None,
    revision: int,
    action: str,
    after: dict[str, Any] | None,
    **_: Any,
) -> None:
    """Write the course and its seats through, and invalidate the lists it appears in."""
    generations = {keys.course_list_generation(semester_id), keys.instructor_courses_generation(instructor_id)}
    if previous_instructor_id:
        generations.add(keys.instructor_courses_generation(previous_instructor_id))
    if action == "deleted" or after is None:
        put_tombstone(keys.course_detail(course_id))
        put_tombstone(keys.course_seats(course_id))
    else:
        put_entity(keys.course_detail(course_id), revision=revision, payload=dumps(after))
        put_entity(
            keys.course_seats(course_id),
            revision=revision,
            payload=seats_payload_of(after),
        )
    bump_generations(*sorted(generations))
