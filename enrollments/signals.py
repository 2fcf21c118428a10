"""The enrollment_changed signal and the receivers that keep the cache in step with enroll and drop.

enrollment_changed(sender=Enrollment, user_id, course_id, semester_id, action, actor_id, before, enrollment)
    Sent by enrollments.services after a transaction committed. action is "enrolled", "dropped" or
    "completed" (enrollments.completions);
    enrollment is the representation after the change, before the one it replaced (None on enroll).

transcript_recorded(sender=Transcript, user_id, actor_id, courses, source)
    Sent after courses were written into a student's transcript without an enrollment of theirs
    changing: transfer credit, or rows of a completion import the student was not enrolled for.
    courses is a list of {course_code, semester_id} (semester_id 0 for transfer credit); source is
    "transfer_credit" or "completion_import".
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.dispatch import Signal

from courseproject.background.dispatch import dispatch, new_event_id
from courseproject.background.events import announce
from courseproject.caching import keys
from courseproject.caching.entities import forget, put_entity
from courseproject.caching.pages import bump_generations
from courses.models import Course
from courses.selectors import SEAT_ATTRIBUTES, seats_payload
from enrollments.models import Enrollment, Transcript
from enrollments.serializers import enrollment_representation
from enrollments.tasks import SUBJECTS, refresh_schedules, send_enrollment_email

logger = logging.getLogger(__name__)

enrollment_changed = Signal()
transcript_recorded = Signal()


def announce_enrollment_change(
    *,
    action: str,
    actor_id: str,
    enrollment: Enrollment,
    before: dict[str, Any] | None,
    override_reason: str | None = None,
) -> None:
    """Send enrollment_changed for a committed change of `enrollment` (its state after the change)."""
    announce(
        enrollment_changed,
        sender=Enrollment,
        user_id=enrollment.user_id,
        course_id=enrollment.course_id,
        semester_id=int(enrollment.semester_id),
        action=action,
        actor_id=actor_id,
        before=before,
        enrollment=enrollment_representation(enrollment),
        override_reason=override_reason,
    )


def announce_transcript_recorded(*, user_id: str, actor_id: str, courses: list[dict[str, Any]], source: str) -> None:
    """Send transcript_recorded for courses committed to the student's transcript."""
    announce(transcript_recorded, sender=Transcript, user_id=user_id, actor_id=actor_id, courses=courses, source=source)


def refresh_enrollment_caches(*, user_id: str, course_id: str, action: str = "", **_: Any) -> None:
    """Write the course's seats through (so every list shows them at once) and invalidate the
    student's enrollment pages and the course's roster; the semester's course lists stay cached.
    A completion frees or takes no seat: it skips the seats' read and write-through."""
    bump_generations(keys.my_enrollments_generation(user_id), keys.roster_generation(course_id))
    if not settings.CACHE_ENABLED or action == "completed":
        return
    seats_key = keys.course_seats(course_id)
    try:
        # A consistent read after the commit: the revision orders concurrent write-throughs.
        course = Course.get(course_id, consistent_read=True, attributes_to_get=SEAT_ATTRIBUTES)
    except Exception:
        logger.exception("Could not read seats of course %s after a commit; dropping the cached seats", course_id)
        forget(seats_key)
        raise
    put_entity(seats_key, revision=int(course.revision), payload=seats_payload(course))


def queue_enrollment_email(*, user_id: str, course_id: str, action: str, enrollment: dict[str, Any], **_: Any) -> None:
    """The confirmation or drop notice goes out from a worker; the request does not wait for it.
    Completions are recorded quietly: a grade report is the registrar's to send."""
    if action not in SUBJECTS:
        return
    dispatch(
        send_enrollment_email,
        event_id=new_event_id(),
        action=action,
        user_id=user_id,
        course_id=course_id,
        enrollment=enrollment,
    )


def refresh_schedules_after_course_change(
    *, course_id: str, action: str, before: dict[str, Any] | None, after: dict[str, Any] | None, **_: Any
) -> None:
    """An admin changed what students' schedules hold of the course (credits, meetings) while students
    were enrolled: a worker brings each schedule up to date, so the rules count the new values."""
    if action != "updated" or before is None or after is None or not after.get("enrolled_count"):
        return
    if before.get("credits") != after.get("credits") or before.get("meetings") != after.get("meetings"):
        dispatch(refresh_schedules, event_id=new_event_id(), course_id=course_id)
