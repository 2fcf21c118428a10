"""The enrollments' signals, and announcing them once a transaction has committed.

enrollment_changed(sender=Enrollment, user_id, course_id, semester_id, action, actor_id, before,
                   enrollment, override_reason, event_id)
    action is "enrolled", "dropped" (enrollments.services), "completed" (enrollments.completions),
    or a waitlist's: "waitlisted" (joined), "waitlist_left" (left, or removed by an admin),
    "promoted", "waitlist_skipped", "waitlist_expired" (enrollments.promotion). enrollment is the
    representation after the change, before the one it replaced (None when it was created).
    event_id, when given, names the change: receivers derive the ids of the tasks they queue from
    it, so announcing one change twice (a waitlist outcome's follow-up, repeated after its worker
    died) sends no second email and writes no second audit record. seat_for_waitlist (a drop): the
    seat it freed may be wanted by the course's waitlist, so a promoter should look.

transcript_recorded(sender=Transcript, user_id, actor_id, courses, source)
    Sent after courses were written into a student's transcript without an enrollment of theirs
    changing: transfer credit, or rows of a completion import the student was not enrolled for.
    courses is a list of {course_code, semester_id} (semester_id 0 for transfer credit); source is
    "transfer_credit" or "completion_import".

roster_exported(sender=Enrollment, actor_id, course_ids, channel)
    Sent when rosters (students' names and emails) leave the system as a CSV file; channel is
    "admin".
"""

from __future__ import annotations

from typing import Any

from django.dispatch import Signal

from courseproject.background.events import announce
from enrollments.models import Enrollment, Transcript
from enrollments.serializers import enrollment_representation

enrollment_changed = Signal()
transcript_recorded = Signal()
roster_exported = Signal()

# The actions of a place on a waitlist changing: the course's waitlist order changes with them.
WAITLIST_ACTIONS = frozenset({"waitlisted", "waitlist_left", "promoted", "waitlist_skipped", "waitlist_expired"})


def announce_enrollment_change(
    *,
    action: str,
    actor_id: str,
    enrollment: Enrollment,
    before: dict[str, Any] | None,
    override_reason: str | None = None,
    event_id: str | None = None,
    seat_for_waitlist: bool = False,
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
        event_id=event_id,
        seat_for_waitlist=seat_for_waitlist,
    )


def announce_transcript_recorded(*, user_id: str, actor_id: str, courses: list[dict[str, Any]], source: str) -> None:
    """Send transcript_recorded for courses committed to the student's transcript."""
    announce(transcript_recorded, sender=Transcript, user_id=user_id, actor_id=actor_id, courses=courses, source=source)
