"""The registration rules, checked in the contract's order against what the enroll path read in one
consistent BatchGetItem: the window, prerequisites, time conflicts, the credit limit. (A full
course is the seat counter's condition in the transaction itself.) Pure functions of the items
read, so the service checks them on the models as read, with no representation built in between.

Meeting times are wall-clock times of the university's zone, compared as such: a meeting ending at
10:00 and one starting at 10:00 do not conflict.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from courseproject.api.errors import ConflictError
from courseproject.api.rendering import isoformat
from courses.models import Course
from enrollments.models import Schedule, Transcript
from semesters.models import Semester

# Statuses of a transcript entry that satisfy a prerequisite: taken, or being taken.
SATISFYING_STATUSES = frozenset({"enrolled", "completed"})


def check_registration_window(semester: Semester | None, *, now: datetime) -> None:
    if semester is None:
        raise ConflictError(
            "Registration for this semester has not been scheduled.",
            code="registration_closed",
            context={"registration_opens_at": None, "add_deadline": None},
        )
    if not semester.registration_is_open(now):
        opens_at, add_deadline = semester.registration_opens_at, semester.add_deadline
        detail = (
            f"Registration opens at {isoformat(opens_at)}."
            if now < opens_at
            else f"Registration closed at the add deadline, {isoformat(add_deadline)}."
        )
        raise ConflictError(
            detail,
            code="registration_closed",
            context={"registration_opens_at": isoformat(opens_at), "add_deadline": isoformat(add_deadline)},
        )


def missing_prerequisites(
    prerequisites: Iterable[str], *, transcript: Transcript | None, semester_id: int
) -> list[str]:
    """The prerequisite codes the student has neither completed nor enrolled in before this semester."""
    entries: dict[str, str] = transcript.entries if transcript is not None else {}
    satisfied = set()
    for key, status in entries.items():
        code, _, taken_in = key.rpartition("#")
        if status in SATISFYING_STATUSES and int(taken_in) < semester_id:
            satisfied.add(code)
    return [code for code in prerequisites if code not in satisfied]


def check_prerequisites(course: Course, *, transcript: Transcript | None) -> None:
    missing = missing_prerequisites(
        course.prerequisites or [], transcript=transcript, semester_id=int(course.semester_id)
    )
    if missing:
        raise ConflictError(
            f"This course requires {', '.join(missing)} first.",
            code="prerequisites_missing",
            context={"missing_prerequisites": missing},
        )


def meetings_overlap(first: dict[str, Any], second: dict[str, Any]) -> bool:
    """Same day and overlapping times; touching ends (10:00 and 10:00) do not overlap."""
    return (
        bool(set(first["days"]) & set(second["days"]))
        and first["start"] < second["end"]
        and second["start"] < first["end"]
    )


def conflicting_course_id(course: Course, *, schedule: Schedule | None) -> str | None:
    """The first enrolled course of the semester with a meeting that overlaps one of this course's."""
    if schedule is None:
        return None
    for other_id, other in sorted(schedule.courses.items()):
        if other_id == course.course_id:
            continue
        for meeting in course.meetings or []:
            if any(meetings_overlap(meeting, other_meeting) for other_meeting in other.get("meetings") or []):
                return other_id
    return None


def check_time_conflicts(course: Course, *, schedule: Schedule | None) -> None:
    conflicting = conflicting_course_id(course, schedule=schedule)
    if conflicting is not None:
        raise ConflictError(
            "This course meets at the same time as a course you are enrolled in.",
            code="time_conflict",
            context={"conflicting_course_id": conflicting},
        )


def check_credit_limit(course: Course, *, schedule: Schedule | None, semester: Semester) -> None:
    enrolled_credits = int(schedule.enrolled_credits) if schedule is not None else 0
    credit_limit = int(semester.credit_limit)
    if enrolled_credits + int(course.credits) > credit_limit:
        raise ConflictError(
            f"This course's {int(course.credits)} credits would take you past the limit of {credit_limit}.",
            code="credit_limit_exceeded",
            context={"credit_limit": credit_limit, "enrolled_credits": enrolled_credits},
        )


def check_enroll_rules(
    course: Course,
    *,
    semester: Semester | None,
    schedule: Schedule | None,
    transcript: Transcript | None,
    now: datetime,
) -> None:
    """Every rule but the seat, in the order the contract gives; the first that fails is raised."""
    check_registration_window(semester, now=now)
    check_prerequisites(course, transcript=transcript)
    check_time_conflicts(course, schedule=schedule)
    check_credit_limit(course, schedule=schedule, semester=semester)
