"""The demo's worked examples: a few courses and students arranged so that each registration rule
can be seen failing (and an enroll succeeding) with the curl commands in docs/api.md. The courses
are ordinary demo courses given set meetings, credits and prerequisites; the examples' students get
only these enrollments, so what they meet does not depend on the random rest of the data.

student1 completed CS 100 last semester and is still enrolled in MATH 100 there (its grades are
pending: the instructor completes it in the examples); this semester they take PHYS 100 (MON/WED
09:00-10:15). student2 carries 16 of the 18 credits this semester. ECON 100 is full.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from demo.calendar import CLOSED, LATER, OPEN
from demo.catalogue import DemoCourse, DemoUser, Registrar, meeting

# Departments 1..11 (CS, MATH, PHYS, ...) and two course levels of each are needed.
DEPARTMENTS_NEEDED = 11
STUDENTS_NEEDED = 5
FULL_COURSE_CAPACITY = 3


@dataclass(frozen=True)
class Showcase:
    student: DemoUser
    full_load_student: DemoUser
    instructor: DemoUser
    semester_ids: tuple[int, int, int]  # closed, open, later
    completed_course: DemoCourse
    grades_pending_course: DemoCourse
    enrolled_course: DemoCourse
    conflicting_course: DemoCourse
    needs_prerequisite_course: DemoCourse
    next_course: DemoCourse
    full_course: DemoCourse
    full_load_courses: tuple[DemoCourse, ...]
    over_limit_course: DemoCourse
    later_course: DemoCourse

    @property
    def reserved_course_ids(self) -> set[str]:
        """Courses the random enrollments keep out of: one must keep its seats, one stays as full as arranged."""
        return {self.next_course.course_id, self.full_course.course_id}

    @property
    def reserved_user_ids(self) -> set[str]:
        return {self.student.user_id, self.full_load_student.user_id}

    def shell_variables(self) -> list[tuple[str, str, str]]:
        """(name, value, comment) for each id the examples in docs/api.md use."""

        def course(variable: str, course: DemoCourse, comment: str) -> tuple[str, str, str]:
            return variable, course.course_id, f"{course.course_code} ({course.semester_id}): {comment}"

        closed, open_now, later = self.semester_ids
        return [
            ("SEMESTER_CLOSED", str(closed), "registration, adding and dropping are over"),
            ("SEMESTER_OPEN", str(open_now), "registration is open"),
            ("SEMESTER_LATER", str(later), "registration opens in two weeks"),
            ("INSTRUCTOR", self.instructor.email, f"teaches {self.grades_pending_course.course_code}"),
            course("COURSE_LATER", self.later_course, "registration has not opened"),
            course("COURSE_NEEDS_PREREQUISITE", self.needs_prerequisite_course, "student1 lacks its prerequisite"),
            course("COURSE_ENROLLED", self.enrolled_course, "student1 is enrolled"),
            course("COURSE_CONFLICTING", self.conflicting_course, f"meets during {self.enrolled_course.course_code}"),
            course("COURSE_OVER_LIMIT", self.over_limit_course, "3 credits more than student2 may take"),
            course("COURSE_FULL", self.full_course, "no seat left"),
            course("COURSE_GRADES_PENDING", self.grades_pending_course, "student1 enrolled, drop deadline passed"),
            course("COURSE_NEXT", self.next_course, f"requires {self.completed_course.course_code}, completed"),
        ]


def _set(courses: list[DemoCourse], index: int, **changes: Any) -> DemoCourse:
    courses[index] = dataclasses.replace(courses[index], **changes)
    return courses[index]


def arrange_showcase(
    *,
    courses: list[DemoCourse],
    students: list[DemoUser],
    instructors: list[DemoUser],
    semester_ids: list[int],
    departments: int,
    registrar: Registrar,
) -> Showcase | None:
    """Shape the examples' courses (in `courses`, in place) and enroll the examples' students; None
    when the dataset is too small or has no closed, open and later semester to show them."""
    count = len(semester_ids)
    if (
        count < 3
        or departments < DEPARTMENTS_NEEDED
        or len(students) < STUDENTS_NEEDED
        or len(courses) < 2 * count * departments
        or registrar.semesters[semester_ids[CLOSED]].drop_deadline >= registrar.now
        or registrar.semesters[semester_ids[LATER]].registration_opens_at <= registrar.now
    ):
        return None

    def index(position: int, department: int, level: int) -> int:
        """Courses are numbered semester first, then department, then level (see dataset.py)."""
        return level * count * departments + (department - 1) * count + position

    def plain(position: int, department: int, *meetings: dict[str, Any], credits: int = 3, **changes: Any):
        """A first-level course with these meetings and credits and no prerequisites."""
        changes.update(meetings=list(meetings), credits=credits, prerequisites=[])
        return _set(courses, index(position, department, 0), **changes)

    completed = plain(CLOSED, 1, meeting(["MON", "WED", "FRI"], "09:00", 50))
    pending = plain(CLOSED, 2, meeting(["TUE", "THU"], "11:00", 75))
    enrolled = plain(OPEN, 3, meeting(["MON", "WED"], "09:00", 75))
    conflicting = plain(OPEN, 4, meeting(["MON", "WED", "FRI"], "10:00", 50))
    full = plain(OPEN, 6, meeting(["FRI"], "13:00", 170), capacity=FULL_COURSE_CAPACITY)
    full_load = tuple(
        plain(OPEN, department, slot, credits=4)
        for department, slot in zip(
            (7, 8, 9, 10),
            (
                meeting(["MON", "WED", "FRI"], "08:00", 50),
                meeting(["TUE", "THU"], "08:00", 75),
                meeting(["MON", "WED", "FRI"], "11:00", 50),
                meeting(["TUE", "THU"], "12:30", 75),
            ),
            strict=True,
        )
    )
    over_limit = plain(OPEN, 11, meeting(["MON", "WED"], "16:30", 75))
    needs_prerequisite = _set(courses, index(OPEN, 5, 1), prerequisites=[courses[index(CLOSED, 5, 0)].course_code])
    next_course = _set(
        courses,
        index(OPEN, 1, 1),
        meetings=[meeting(["TUE", "THU"], "09:30", 75)],
        credits=3,
        capacity=40,
        prerequisites=[completed.course_code],
    )
    later = courses[index(LATER, 1, 0)]

    student, full_load_student, *others = students[:STUDENTS_NEEDED]
    registrar.grades_pending.add(pending.course_id)
    for course in (completed, pending, enrolled):
        registrar.enroll(student.user_id, course)
    for course in full_load:
        registrar.enroll(full_load_student.user_id, course)
    for other in others:
        registrar.enroll(other.user_id, pending)
        registrar.enroll(other.user_id, full)
    instructor = next(user for user in instructors if user.user_id == pending.instructor_id)
    return Showcase(
        student=student,
        full_load_student=full_load_student,
        instructor=instructor,
        semester_ids=(semester_ids[CLOSED], semester_ids[OPEN], semester_ids[LATER]),
        completed_course=completed,
        grades_pending_course=pending,
        enrolled_course=enrolled,
        conflicting_course=conflicting,
        needs_prerequisite_course=needs_prerequisite,
        next_course=next_course,
        full_course=full,
        full_load_courses=full_load,
        over_limit_course=over_limit,
        later_course=later,
    )
