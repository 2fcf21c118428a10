"""Writes of courses. Each one checks who may do it, writes with a condition that keeps the rule
true under concurrent writers, and announces itself with `course_changed` once it has succeeded."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from pynamodb.exceptions import DeleteError, UpdateError

from accounts.models import Actor, Role
from accounts.selectors import user_by_id
from courseproject.api.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from courseproject.background.events import announce
from courseproject.ids import new_id
from courses.models import DEFAULT_WAITLIST_CAPACITY, Course
from courses.permissions import ensure_can_manage
from courses.selectors import course_by_id, course_or_404
from courses.serializers import course_representation
from courses.signals import course_changed
from semesters.selectors import semester_by_id

UPDATABLE_FIELDS = (
    "course_code",
    "title",
    "description",
    "department_id",
    "credits",
    "capacity",
    "waitlist_capacity",
    "meetings",
    "prerequisites",
    "instructor_id",
)
# What students' schedules hold of a course: once registration has opened, only admins change these
# under enrolled students (their schedules are then brought up to date, see enrollments/signals.py).
SCHEDULE_FIELDS = frozenset({"credits", "meetings"})
# What the enroll rules read of a course; changing any bumps its rules_revision.
RULES_FIELDS = frozenset({"course_code", "credits", "meetings", "prerequisites"})


def _require_instructor(instructor_id: str) -> None:
    instructor = user_by_id(user_id=instructor_id)
    if instructor is None or instructor.role != Role.INSTRUCTOR or not instructor.is_active:
        raise InvalidInputError("No active instructor has this id.", code="instructor_not_found", field="instructor_id")


def _refuse_own_prerequisite(*, course_code: str, prerequisites: list[str]) -> None:
    # It could only be met by having taken the course before, which is a retake, not a prerequisite.
    if course_code in prerequisites:
        raise InvalidInputError(
            f"{course_code} cannot be a prerequisite of itself.", code="own_prerequisite", field="prerequisites"
        )


def _send_changed(*, action: str, actor: Actor, course: Course, before: dict | None, after: dict | None) -> None:
    announce(
        course_changed,
        sender=Course,
        course_id=course.course_id,
        semester_id=int(course.semester_id),
        department_id=int(course.department_id),
        instructor_id=course.instructor_id,
        previous_instructor_id=before["instructor_id"] if before else None,
        revision=int(course.revision),
        action=action,
        actor_id=actor.user_id,
        before=before,
        after=after,
    )


def create_course(
    *,
    actor: Actor,
    course_code: str,
    title: str,
    semester_id: int,
    department_id: int,
    credits: int,
    capacity: int,
    waitlist_capacity: int = DEFAULT_WAITLIST_CAPACITY,
    description: str = "",
    meetings: list[dict[str, Any]] | None = None,
    prerequisites: list[str] | None = None,
    instructor_id: str | None = None,
) -> Course:
    if actor.is_instructor:
        if instructor_id not in (None, actor.user_id):
            raise PermissionDeniedError("Instructors can only create their own courses.")
        instructor_id = actor.user_id
    elif actor.is_admin:
        if not instructor_id:
            raise InvalidInputError(
                "An admin must name the course's instructor.", code="required", field="instructor_id"
            )
        _require_instructor(instructor_id)
    else:
        raise PermissionDeniedError("Only instructors and admins can create courses.")
    _refuse_own_prerequisite(course_code=course_code, prerequisites=prerequisites or [])
    if semester_by_id(semester_id=semester_id) is None:
        raise InvalidInputError(
            "No semester has this id; an admin creates it first.", code="unknown_semester", field="semester_id"
        )

    now = timezone.now()
    course = Course(
        course_id=new_id(),
        course_code=course_code,
        title=title,
        description=description,
        semester_id=semester_id,
        department_id=department_id,
        instructor_id=instructor_id,
        credits=credits,
        capacity=capacity,
        waitlist_capacity=waitlist_capacity,
        meetings=meetings or [],
        prerequisites=prerequisites or [],
        enrolled_count=0,
        revision=1,
        created_at=now,
        updated_at=now,
    )
    course.save_new()
    _send_changed(action="created", actor=actor, course=course, before=None, after=course_representation(course))
    return course


def _students_enrolled(count: int) -> str:
    return "1 student is enrolled" if count == 1 else f"{count} students are enrolled"


def _explain_failed_write(
    *,
    course_id: str,
    actor: Actor,
    capacity: int | None = None,
    deleting: bool = False,
    changes_schedules: bool = False,
    renames: bool = False,
) -> None:
    """A conditional write failed: re-read the course and raise what the caller needs to know."""
    current = course_by_id(course_id=course_id)
    if current is None:
        raise NotFoundError("Course not found.", code="course_not_found")
    ensure_can_manage(actor, instructor_id=current.instructor_id)
    if deleting and (current.enrolled_count > 0 or current.waitlisted_count > 0):
        raise ConflictError(
            f"{_students_enrolled(int(current.enrolled_count))} and {int(current.waitlisted_count)} waiting; "
            "drop them and clear the waitlist before deleting the course.",
            code="course_has_enrollments",
            context={
                "enrolled_count": int(current.enrolled_count),
                "waitlisted_count": int(current.waitlisted_count),
            },
        )
    if renames and current.enrolled_count > 0:
        raise ConflictError(
            f"{_students_enrolled(int(current.enrolled_count))}: their transcripts know the course by its code, "
            "so it cannot change while they are; create a new course instead.",
            code="course_has_enrollments",
            context={"enrolled_count": int(current.enrolled_count)},
        )
    if changes_schedules and current.enrolled_count > 0:
        raise ConflictError(
            f"Registration has opened and {_students_enrolled(int(current.enrolled_count))}: their schedules "
            "and credit totals count this course's credits and meetings, so only an admin (the registrar) can "
            "change those now, and the students' schedules are then updated. Other fields can still be changed.",
            code="course_has_enrollments",
            context={"enrolled_count": int(current.enrolled_count)},
        )
    if capacity is not None and current.enrolled_count > capacity:
        raise ConflictError(
            f"Capacity cannot be below the {int(current.enrolled_count)} students already enrolled.",
            code="capacity_below_enrolled",
        )
    raise ConflictError("The course changed while saving; please retry.", code="concurrent_update")


def update_course(*, actor: Actor, course_id: str, changes: dict[str, Any]) -> Course:
    unknown = set(changes) - set(UPDATABLE_FIELDS)
    if unknown:
        raise InvalidInputError(f"These fields cannot be changed: {', '.join(sorted(unknown))}.")
    course = course_or_404(course_id=course_id)
    ensure_can_manage(actor, instructor_id=course.instructor_id)
    before = course_representation(course)

    new_instructor_id = changes.get("instructor_id")
    if new_instructor_id is not None and new_instructor_id != course.instructor_id:
        if not actor.is_admin:
            raise PermissionDeniedError("Only admins can give a course to another instructor.")
        _require_instructor(new_instructor_id)

    if "course_code" in changes or "prerequisites" in changes:
        _refuse_own_prerequisite(
            course_code=changes.get("course_code", course.course_code),
            prerequisites=changes.get("prerequisites", course.prerequisites or []),
        )

    condition = Course.course_id.exists()
    if not actor.is_admin:
        # Ownership may have moved since the read above.
        condition &= Course.instructor_id == actor.user_id
    changed = {field for field, value in changes.items() if value != getattr(course, field)}
    changes_schedules = not actor.is_admin and bool(changed & SCHEDULE_FIELDS) and registration_has_opened(course)
    renames = "course_code" in changed
    if changes_schedules or renames:
        # Students enrolled under these credits and meetings (or, for anyone, under this code, which keys
        # their transcripts): a concurrent enroll must not slip in either.
        condition &= Course.enrolled_count == 0
    capacity = changes.get("capacity")
    if capacity is not None:
        # Checked by DynamoDB against the live counter, so a concurrent enroll cannot slip past.
        condition &= Course.enrolled_count <= capacity

    now = timezone.now()
    actions = [getattr(Course, field).set(value) for field, value in changes.items()]
    actions += [Course.updated_at.set(now), Course.revision.add(1)]
    if capacity is not None and capacity > course.capacity:
        actions.append(Course.seat_freed_at.set(Course.seat_freed_at | now))  # the waitlist's lag runs from here
    if changed & RULES_FIELDS:
        actions.append(Course.rules_revision.add(1))
    try:
        course.update(actions=actions, condition=condition)
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            _explain_failed_write(
                course_id=course_id,
                actor=actor,
                capacity=capacity,
                changes_schedules=changes_schedules,
                renames=renames,
            )
        raise
    _send_changed(action="updated", actor=actor, course=course, before=before, after=course_representation(course))
    return course


def registration_has_opened(course: Course) -> bool:
    """From this instant students plan around the course's credits and meetings (a course whose
    semester has no record counts as opened: nothing says otherwise)."""
    semester = semester_by_id(semester_id=int(course.semester_id))
    return semester is None or timezone.now() >= semester.registration_opens_at


def delete_course(*, actor: Actor, course_id: str) -> None:
    course = course_or_404(course_id=course_id)
    ensure_can_manage(actor, instructor_id=course.instructor_id)
    before = course_representation(course)
    condition = (
        Course.course_id.exists()
        & (Course.enrolled_count == 0)
        & (Course.waitlisted_count.does_not_exist() | (Course.waitlisted_count == 0))
    )
    if not actor.is_admin:
        condition &= Course.instructor_id == actor.user_id
    try:
        course.delete(condition=condition)
    except DeleteError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            _explain_failed_write(course_id=course_id, actor=actor, deleting=True)
        raise
    _send_changed(action="deleted", actor=actor, course=course, before=before, after=None)
