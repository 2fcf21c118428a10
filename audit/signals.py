"""Receivers that queue an audit record for every committed write of a course, enrollment, semester,
user or transcript."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from audit.models import RULES_OVERRIDDEN, TRANSCRIPT_RECORDED
from audit.tasks import record_event
from courseproject.background.dispatch import dispatch, new_event_id


def _queue(
    *,
    entity_type: str,
    entity_id: str,
    action: str,
    actor_id: str,
    before: Any,
    after: Any,
    event_id: str | None = None,
) -> None:
    """Queue the record; an `event_id` naming the change makes its audit id (a repeat records nothing)."""
    dispatch(
        record_event,
        event_id=f"{event_id}:{entity_type}" if event_id else new_event_id(),
        entity_type=entity_type,
        entity_id=entity_id,
        action=action,
        actor_id=actor_id,
        occurred_at=timezone.now().isoformat(),
        before=before,
        after=after,
    )


def audit_course_change(*, course_id: str, action: str, actor_id: str, before: Any, after: Any, **_: Any) -> None:
    _queue(entity_type="course", entity_id=course_id, action=action, actor_id=actor_id, before=before, after=after)


def audit_enrollment_change(
    *,
    action: str,
    actor_id: str,
    before: Any,
    enrollment: Any,
    override_reason: str | None = None,
    event_id: str | None = None,
    **_: Any,
) -> None:
    # An admin's enrollment past the rules keeps the reason they gave beside the record.
    after = {**enrollment, "override_reason": override_reason} if override_reason else enrollment
    _queue(
        entity_type="enrollment",
        entity_id=enrollment["enrollment_id"],
        action=action,
        actor_id=actor_id,
        before=before,
        after=after,
        event_id=event_id,
    )
    if override_reason:
        # Also in the student's history, where their page in the admin finds every override in one Query.
        _queue(
            entity_type="user",
            entity_id=enrollment["user_id"],
            action=RULES_OVERRIDDEN,
            actor_id=actor_id,
            before=None,
            after=after,
        )


def audit_transcript_recorded(
    *, user_id: str, actor_id: str, courses: list[dict[str, Any]], source: str, **_: Any
) -> None:
    _queue(
        entity_type="user",
        entity_id=user_id,
        action=TRANSCRIPT_RECORDED,
        actor_id=actor_id,
        before=None,
        after={"source": source, "courses": courses},
    )


def audit_semester_change(*, semester_id: int, action: str, actor_id: str, before: Any, after: Any, **_: Any) -> None:
    _queue(
        entity_type="semester", entity_id=str(semester_id), action=action, actor_id=actor_id, before=before, after=after
    )


def audit_user_change(*, user_id: str, action: str, actor_id: str, before: Any, after: Any, **_: Any) -> None:
    _queue(entity_type="user", entity_id=user_id, action=action, actor_id=actor_id, before=before, after=after)


def audit_sign_in_event(*, user_id: str | None, action: str, actor_id: str, detail: dict[str, Any], **_: Any) -> None:
    """Sign-ins and their ends in the user's history; a failed sign-in with an unknown email under
    that email (its `actor_id` is the client address, which finds everything one address tried)."""
    entity_type, entity_id = ("user", user_id) if user_id else ("email", str(detail.get("email", "unknown")))
    _queue(entity_type=entity_type, entity_id=entity_id, action=action, actor_id=actor_id, before=None, after=detail)


def audit_roster_export(*, actor_id: str, course_ids: list[str], channel: str, **_: Any) -> None:
    """A roster export carries students' personal data out of the system: whose, and who took it."""
    for course_id in course_ids:
        _queue(
            entity_type="course",
            entity_id=course_id,
            action="roster_exported",
            actor_id=actor_id,
            before=None,
            after={"channel": channel},
        )
