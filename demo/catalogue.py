"""The demo's items and the registrar that enrolls demo students by the same rules as the API:
only in semesters whose registration has opened, with a free seat, prerequisites taken in an
earlier semester, no overlapping meetings and no more credits than the semester's limit. Seeded
data is then data the API could have produced."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from demo.calendar import DemoSemester
from enrollments.models import EnrollmentStatus
from enrollments.rules import meetings_overlap

DEMO_NAMESPACE = uuid.UUID("6f1c2a7e-3c1b-4f7a-9d64-2f1b1f0c9a11")


def demo_id(seed: int, kind: str, number: int | str) -> str:
    return uuid.uuid5(DEMO_NAMESPACE, f"{seed}:{kind}:{number}").hex


def course_id_for(seed: int, *, semester_id: int, number_in_semester: int) -> str:
    """A course's id names its semester: when the calendar moves on, the new semester's courses are
    new items instead of old ones that would keep their old semester."""
    return demo_id(seed, f"course:{semester_id}", number_in_semester)


def meeting(days: list[str], start: str, minutes: int) -> dict[str, Any]:
    hours, mins = divmod(int(start[:2]) * 60 + int(start[3:]) + minutes, 60)
    return {"days": days, "start": start, "end": f"{hours:02d}:{mins:02d}"}


# A university's usual blocks: 50 minutes three days a week, 75 minutes twice.
WEEKLY_SLOTS = (
    [meeting(["MON", "WED", "FRI"], f"{hour:02d}:00", 50) for hour in range(8, 17)]
    + [meeting(["TUE", "THU"], start, 75) for start in ("08:00", "09:30", "11:00", "12:30", "14:00", "15:30")]
    + [meeting(["MON", "WED"], start, 75) for start in ("08:30", "10:00", "13:30", "16:30")]
)
# A 4-credit course has a lab besides.
LAB_SLOTS = [meeting(["FRI"], "13:00", 170), meeting(["WED"], "18:00", 170), meeting(["TUE"], "17:00", 170)]


@dataclass(frozen=True)
class DemoUser:
    user_id: str
    email: str
    name: str
    role: str
    created_at: datetime


@dataclass(frozen=True)
class DemoCourse:
    course_id: str
    course_code: str
    title: str
    description: str
    semester_id: int
    department_id: int
    instructor_id: str
    credits: int
    capacity: int
    meetings: list[dict[str, Any]]
    prerequisites: list[str]
    created_at: datetime


@dataclass(frozen=True)
class DemoEnrollment:
    user_id: str
    course_id: str
    semester_id: int
    enrolled_at: datetime
    status: str = EnrollmentStatus.ENROLLED.value


class Registrar:
    """Enrolls demo students, refusing what the API's rules would refuse; enrollments in a semester
    whose drop deadline has passed are completed, except in courses whose grades are still pending."""

    def __init__(self, semesters: list[DemoSemester], *, credit_limit: int, now: datetime) -> None:
        self.semesters = {semester.semester_id: semester for semester in semesters}
        self.credit_limit = credit_limit
        self.now = now
        self.enrollments_by_course: dict[str, list[DemoEnrollment]] = {}
        self.grades_pending: set[str] = set()
        self._seats_taken: dict[str, int] = {}
        self._terms: dict[tuple[str, int], list[DemoCourse]] = {}
        self._taken: dict[str, set[tuple[str, int]]] = {}
        self._pairs: set[tuple[str, str]] = set()

    @property
    def enrollment_count(self) -> int:
        return len(self._pairs)

    def refusal(self, user_id: str, course: DemoCourse) -> str | None:
        """Why the student cannot enroll in the course (None if they can), in the API's order."""
        semester = self.semesters[course.semester_id]
        term = self._terms.get((user_id, course.semester_id), [])
        credits = sum(other.credits for other in term)
        taken = self._taken.get(user_id, set())

        def lacks(code: str) -> bool:
            return not any(code == done and when < course.semester_id for done, when in taken)

        def overlaps(other: DemoCourse) -> bool:
            return any(meetings_overlap(mine, theirs) for mine in course.meetings for theirs in other.meetings)

        checks = (
            ("enrolled", lambda: (user_id, course.course_id) in self._pairs),
            ("registration_closed", lambda: not semester.registration_has_opened(self.now)),
            ("course_full", lambda: self._seats_taken.get(course.course_id, 0) >= course.capacity),
            ("prerequisites_missing", lambda: any(lacks(code) for code in course.prerequisites)),
            ("time_conflict", lambda: any(overlaps(other) for other in term)),
            ("credit_limit_exceeded", lambda: credits + course.credits > self.credit_limit),
        )
        return next((name for name, failed in checks if failed()), None)

    def enroll(self, user_id: str, course: DemoCourse) -> DemoEnrollment:
        refusal = self.refusal(user_id, course)
        if refusal is not None:
            raise ValueError(f"the demo data breaks its own rules: {refusal} for {course.course_code}")
        # Grades come once the drop deadline has passed (the API's completions wait for it too).
        semester = self.semesters[course.semester_id]
        completed = semester.drop_deadline < self.now and course.course_id not in self.grades_pending
        enrollment = DemoEnrollment(
            user_id=user_id,
            course_id=course.course_id,
            semester_id=course.semester_id,
            enrolled_at=semester.registration_opens_at + timedelta(minutes=1, seconds=len(self._pairs)),
            status=(EnrollmentStatus.COMPLETED if completed else EnrollmentStatus.ENROLLED).value,
        )
        self._pairs.add((user_id, course.course_id))
        self._seats_taken[course.course_id] = self._seats_taken.get(course.course_id, 0) + 1
        self._terms.setdefault((user_id, course.semester_id), []).append(course)
        self._taken.setdefault(user_id, set()).add((course.course_code, course.semester_id))
        self.enrollments_by_course.setdefault(course.course_id, []).append(enrollment)
        return enrollment
