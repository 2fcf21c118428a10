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
from courses.selectors import seats_payload
from enrollments.cached_pages import invalidate_pages, read_after_commit, read_pages, rewrite_pages
from enrollments.events import WAITLIST_ACTIONS
from enrollments.tasks import SUBJECTS, promote_waitlist, refresh_schedules, release_student, send_enrollment_email
from enrollments.waitlist_order import read_waitlist_order

logger = logging.getLogger(__name__)


def refresh_enrollment_caches(
    *, user_id: str, course_id: str, semester_id: int | None = None, action: str = "", **_: Any
) -> None:
    """Write the course's seats (and, when the waitlist changed, its order) through, so every list and
    every student's position shows them at once, and the student's first page of enrollments and the
    course's first roster pages (enrollments/cached_pages.py), so their next reads are hits; their
    other pages go stale, and the semester's course lists stay cached. A completion (many at once,
    a registrar's) frees or takes no seat: it skips the reads and only makes the pages stale."""
    if not settings.CACHE_ENABLED:
        return
    if action == "completed" or semester_id is None:
        invalidate_pages(user_id=user_id, course_id=course_id)
        return
    # Before the reads below, so that a write coming in between is caught by the pages' compare-and-set.
    pages = read_pages(user_id=user_id, course_id=course_id, semester_id=semester_id)
    seats_key, waitlist_key = keys.course_seats(course_id), keys.course_waitlist(course_id)
    try:
        # Consistent reads after the commit: the revision orders concurrent write-throughs.
        after = read_after_commit(
            user_id=user_id, course_id=course_id, semester_id=semester_id, pages=pages, with_course=True
        )
        order = read_waitlist_order(course_id, course=after.course) if action in WAITLIST_ACTIONS else None
    except Exception:
        logger.exception("Could not read seats of course %s after a commit; dropping the cached seats", course_id)
        forget(seats_key)
        forget(waitlist_key)
        invalidate_pages(user_id=user_id, course_id=course_id)
        raise
    course = order.course if order is not None else after.course
    if course is not None:
        entities = [(seats_key, int(course.revision), seats_payload(course))]
        if order is not None:
            entities.append((waitlist_key, int(course.revision), order.cache_payload()))
        put_entities(entities)
    if pages is None:
        invalidate_pages(user_id=user_id, course_id=course_id)  # Redis away: repaired as any missed bump
    else:
        rewrite_pages(pages, after=after, waitlist=order)


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
