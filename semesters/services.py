"""Writes of semesters, by admins: create (once per id) and change, each a conditional write that
announces itself with `semester_changed` once it has succeeded."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from pynamodb.exceptions import PutError, UpdateError

from accounts.models import Actor
from courseproject.api.errors import ConflictError, InvalidInputError, PermissionDeniedError
from courseproject.background.events import announce
from semesters.models import DEFAULT_CREDIT_LIMIT, Semester
from semesters.selectors import semester_or_404
from semesters.serializers import semester_representation, window_errors
from semesters.signals import semester_changed

UPDATABLE_FIELDS = ("name", "registration_opens_at", "add_deadline", "drop_deadline", "credit_limit")


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise PermissionDeniedError("Only admins can create or change semesters.")


def _announce(*, action: str, actor: Actor, semester: Semester, before: dict[str, Any] | None) -> None:
    announce(
        semester_changed,
        sender=Semester,
        semester_id=int(semester.semester_id),
        revision=int(semester.revision),
        action=action,
        actor_id=actor.user_id,
        before=before,
        after=semester_representation(semester),
    )


def create_semester(
    *,
    actor: Actor,
    semester_id: int,
    name: str,
    registration_opens_at: datetime,
    add_deadline: datetime,
    drop_deadline: datetime,
    credit_limit: int = DEFAULT_CREDIT_LIMIT,
) -> Semester:
    _require_admin(actor)
    errors = window_errors(
        registration_opens_at=registration_opens_at, add_deadline=add_deadline, drop_deadline=drop_deadline
    )
    for field, messages in errors.items():
        raise InvalidInputError(messages[0], code="invalid_window", field=field)
    now = timezone.now()
    semester = Semester(
        semester_id=semester_id,
        name=name,
        registration_opens_at=registration_opens_at,
        add_deadline=add_deadline,
        drop_deadline=drop_deadline,
        credit_limit=credit_limit,
        revision=1,
        created_at=now,
        updated_at=now,
    )
    try:
        semester.save(condition=Semester.semester_id.does_not_exist())
    except PutError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            raise ConflictError("A semester with this id exists already.", code="semester_exists") from None
        raise
    _announce(action="created", actor=actor, semester=semester, before=None)
    return semester


def update_semester(*, actor: Actor, semester_id: int, changes: dict[str, Any]) -> Semester:
    """Change a semester's name, window or credit limit. Enrollments made under the old rules stay
    (a lowered credit limit keeps them); the next enroll obeys the new ones."""
    _require_admin(actor)
    semester = semester_or_404(semester_id=semester_id)
    before = semester_representation(semester)
    changes = {name: value for name, value in changes.items() if name in UPDATABLE_FIELDS}
    window = {
        name: changes.get(name, getattr(semester, name))
        for name in ("registration_opens_at", "add_deadline", "drop_deadline")
    }
    for field, messages in window_errors(**window).items():
        raise InvalidInputError(messages[0], code="invalid_window", field=field)
    if not changes:
        return semester
    now = timezone.now()
    actions = [getattr(Semester, name).set(value) for name, value in changes.items()]
    actions += [Semester.updated_at.set(now), Semester.revision.add(1)]
    try:
        # The revision read is the one changed: a concurrent edit makes this one retry by hand
        # rather than silently mix two admins' windows.
        semester.update(actions=actions, condition=Semester.revision == int(semester.revision))
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            raise ConflictError(
                "The semester was changed meanwhile; reload it and try again.", code="semester_changed"
            ) from None
        raise
    _announce(action="updated", actor=actor, semester=semester, before=before)
    return semester
