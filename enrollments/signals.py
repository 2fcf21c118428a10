"""Receivers of enrollment_changed (enrollments/events.py) and course_changed that keep the cache in
step with enrollments and waitlists, queue the students' emails, and hand freed seats to the
waitlist."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings

from courseproject.background.dispatch import dispatch, new_event_id
from courseproject.caching import keys
from courseproject.caching.entities import forget, put_entities
from courseproject.caching.pages import bump_generations
from courses.models import Course
from courses.selectors import SEAT_ATTRIBUTES, seats_payload
from enrollments.events import WAITLIST_ACTIONS
from enrollments.tasks import SUBJECTS, promote_waitlist, refresh_schedules, release_student, send_enrollment_email
from enrollments.waitlist_order import read_waitlist_order

logger = logging.getLogger(__name__)


def refresh_enrollment_caches(*, user_id: str, course_id: str, action: str = "", **_: Any) -> None:
    """Write the course's seats (and, when the waitlist changed, its order) through, so every list and
    every student's position shows them at once, and invalidate the student's enrollment pages and
    the course's roster; the semester's course lists stay cached. A completion frees or takes no
    seat: it skips the seats' read and write-through."""
    bump_generations(keys.my_enrollments_generation(user_id), keys.roster_generation(course_id))
    if not settings.CACHE_ENABLED or action == "completed":
        return
    seats_key, waitlist_key = keys.course_seats(course_id), keys.course_waitlist(course_id)
    try:
        # Consistent reads after the commit: the revision orders concurrent write-throughs.
        if action in WAITLIST_ACTIONS:
            order = read_waitlist_order(course_id)
            course = order.course if order is not None else None
        else:
            order, course = None, Course.get(course_id, consistent_read=True, attributes_to_get=SEAT_ATTRIBUTES)
    except Exception:
        logger.exception("Could not read seats of course %s after a commit; dropping the cached seats", course_id)
        forget(seats_key)
        forget(waitlist_key)
        raise
    if course is None:
        return
    entities = [(seats_key, int(course.revision), seats_payload(course))]
    if order is not None:
        entities.append((waitlist_key, int(course.revision), order.cache_payload()))
    put_entities(entities)


def queue_enrollment_email(
    *, user_id: str, course_id: str, action: str, enrollment: dict[str, Any], event_id: str | None = None, **_: Any
) -> None:
    """The confirmation or notice goes out from a worker; the request does not wait for it.
    Completions are recorded quietly (a grade report is the registrar's to send), as are joins and
    leaves of a waitlist, which the student sees in the answer to their own request."""
    if action not in SUBJECTS:
        return
    dispatch(
        send_enrollment_email,
        event_id=event_id or new_event_id(),
        action=action,
        user_id=user_id,
        course_id=course_id,
        enrollment=enrollment,
    )


def promote_into_freed_seat(*, course_id: str, action: str, seat_for_waitlist: bool = False, **_: Any) -> None:
    """A drop freed a seat someone may wait for: the waitlist's promoter takes it from here."""
    if action == "dropped" and seat_for_waitlist:
        dispatch(promote_waitlist, event_id=new_event_id(), course_id=course_id)


def promote_after_capacity_raise(
    *, course_id: str, action: str, before: dict[str, Any] | None, after: dict[str, Any] | None, **_: Any
) -> None:
    if action != "updated" or before is None or after is None or not after.get("waitlisted_count"):
        return
    if after["capacity"] > before["capacity"]:
        dispatch(promote_waitlist, event_id=new_event_id(), course_id=course_id)


def refresh_schedules_after_course_change(
    *, course_id: str, action: str, before: dict[str, Any] | None, after: dict[str, Any] | None, **_: Any
) -> None:
    """An admin changed what students' schedules hold of the course (credits, meetings) while students
    were enrolled: a worker brings each schedule up to date, so the rules count the new values."""
    if action != "updated" or before is None or after is None or not after.get("enrolled_count"):
        return
    if before.get("credits") != after.get("credits") or before.get("meetings") != after.get("meetings"):
        dispatch(refresh_schedules, event_id=new_event_id(), course_id=course_id)


def release_deactivated_student(
    *, user_id: str, actor_id: str, before: dict[str, Any] | None, after: dict[str, Any] | None, **_: Any
) -> None:
    """An admin deactivated a student: a worker gives up their seats and waitlist places."""
    if before is not None and after is not None and before.get("is_active") and not after.get("is_active"):
        dispatch(release_student, event_id=new_event_id(), user_id=user_id, actor_id=actor_id)
