"""Writes of semesters, by admins: create (once per id) and change, each a conditional write that
announces itself with `semester_changed` once it has succeeded."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from pynamodb.exceptions import PutError, UpdateError

from accounts.models import Actor
from courseproject.api.errors import ConflictError, InvalidInputError, PermissionDeniedError
from courseproject.api.rendering import isoformat
from courseproject.background.events import announce
from semesters.models import DEFAULT_CREDIT_LIMIT, Semester
from semesters.selectors import semester_or_404
from semesters.serializers import semester_representation, window_errors
from semesters.signals import semester_changed

WINDOW_FIELDS = ("registration_opens_at", "add_deadline", "drop_deadline")
UPDATABLE_FIELDS = ("name", *WINDOW_FIELDS, "credit_limit")


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
    _check_window(
        {"registration_opens_at": registration_opens_at, "add_deadline": add_deadline, "drop_deadline": drop_deadline},
        changed=set(WINDOW_FIELDS),
    )
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


def update_semester(
    *, actor: Actor, semester_id: int, changes: dict[str, Any], expected_revision: int | None = None
) -> Semester:
    """Change a semester's name, window or credit limit. Enrollments made under the old rules stay
    (a lowered credit limit keeps them); the next enroll obeys the new ones. `expected_revision` is
    the revision the caller was shown (the admin's form): an edit of an older one is refused."""
    _require_admin(actor)
    semester = semester_or_404(semester_id=semester_id)
    if expected_revision is not None and expected_revision != int(semester.revision):
        raise _changed_meanwhile()
    before = semester_representation(semester)
    changes = {name: value for name, value in changes.items() if name in UPDATABLE_FIELDS}
    window = {name: changes.get(name, getattr(semester, name)) for name in WINDOW_FIELDS}
    _check_window(window, changed=set(changes))
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
            raise _changed_meanwhile() from None
        raise
    _announce(action="updated", actor=actor, semester=semester, before=before)
    return semester


def _changed_meanwhile() -> ConflictError:
    return ConflictError("The semester was changed meanwhile; reload it and try again.", code="semester_changed")


def _check_window(window: dict[str, datetime], *, changed: set[str]) -> None:
    """Refuse a deadline before the opening, on the field the caller changed: moving the opening
    past a stored deadline is the opening's error, not the deadline's."""
    errors = window_errors(**window)
    if not errors:
        return
    deadline = next(iter(errors))
    if deadline not in changed and "registration_opens_at" in changed:
        raise InvalidInputError(
            f"Must not be after {deadline} ({isoformat(window[deadline])}).",
            code="invalid_window",
            field="registration_opens_at",
        )
    raise InvalidInputError(errors[deadline][0], code="invalid_window", field=deadline)
