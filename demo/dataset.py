"""Deterministic demo data: the same arguments, seed and day always describe the same items.

`build_demo_dataset` only computes; the seed_demo command writes what is missing. Ids are UUID5s of
(seed, kind, number), so re-seeding finds the items it wrote before instead of duplicating them.
The semesters follow the calendar (demo/calendar.py): the one before today's, whose registration is
over and whose enrollments are completed; today's, open now; and later ones, opening later. Courses
have meetings and prerequisites, and the seeded enrollments keep every registration rule
(demo/catalogue.py). A few courses and students are arranged for the examples in docs/api.md
(demo/showcase.py).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from demo.calendar import DemoSemester, demo_semester_ids, demo_semesters, utc_today
from demo.catalogue import (
    LAB_SLOTS,
    WEEKLY_SLOTS,
    DemoCourse,
    DemoEnrollment,
    DemoUser,
    Registrar,
    course_id_for,
    demo_id,
)
from demo.logins import DEMO_EMAIL_DOMAIN
from demo.names import DEPARTMENT_CODES, FIRST_NAMES, LAST_NAMES, TITLE_LEVELS, TITLE_SUBJECTS
from demo.showcase import Showcase, arrange_showcase
from semesters.models import DEFAULT_CREDIT_LIMIT

__all__ = ["DemoCourse", "DemoDataset", "DemoEnrollment", "DemoUser", "build_demo_dataset", "demo_id"]

DEMO_EPOCH = datetime(2026, 1, 5, tzinfo=UTC)
# Courses with a prerequisite, among those above the first level outside the first semester.
PREREQUISITE_SHARE = 1 / 3


@dataclass
class DemoDataset:
    users: list[DemoUser]
    courses: list[DemoCourse]
    semesters: list[DemoSemester] = field(default_factory=list)
    enrollments_by_course: dict[str, list[DemoEnrollment]] = field(default_factory=dict)
    credit_limit: int = DEFAULT_CREDIT_LIMIT
    showcase: Showcase | None = None

    @property
    def enrollment_count(self) -> int:
        return sum(len(enrollments) for enrollments in self.enrollments_by_course.values())


def _person_name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def _department_code(department_id: int) -> str:
    return DEPARTMENT_CODES[department_id - 1] if department_id <= len(DEPARTMENT_CODES) else f"D{department_id}"


def build_demo_dataset(
    *,
    courses: int,
    students: int,
    enrollments: int,
    instructors: int,
    semesters: int,
    departments: int,
    seed: int,
    today: date | None = None,
    first_semester: int | None = None,
    all_open: bool = False,
) -> DemoDataset:
    """The demo data as of `today` (UTC today by default); `first_semester` fixes the semesters
    instead of following the calendar, `all_open` opens every semester's registration now."""
    today = today or utc_today()
    rng = random.Random(seed)
    users = [DemoUser(demo_id(seed, "admin", 1), f"admin@{DEMO_EMAIL_DOMAIN}", "Demo Admin", "admin", DEMO_EPOCH)]
    instructor_users = [
        DemoUser(
            demo_id(seed, "instructor", number),
            f"instructor{number}@{DEMO_EMAIL_DOMAIN}",
            _person_name(rng),
            "instructor",
            DEMO_EPOCH + timedelta(minutes=number),
        )
        for number in range(1, instructors + 1)
    ]
    student_users = [
        DemoUser(
            demo_id(seed, "student", number),
            f"student{number}@{DEMO_EMAIL_DOMAIN}",
            _person_name(rng),
            "student",
            DEMO_EPOCH + timedelta(hours=1, seconds=number),
        )
        for number in range(1, students + 1)
    ]
    users += instructor_users + student_users

    semester_ids = demo_semester_ids(semesters, today=today, first=first_semester)
    semester_list = demo_semesters(semester_ids, today=today, all_open=all_open)
    course_list: list[DemoCourse] = []
    for number in range(courses):
        position = number % semesters
        semester_id = semester_ids[position]
        department_id = (number // semesters) % departments + 1
        level = number // (semesters * departments)
        department_code = _department_code(department_id)
        credits = rng.choice([1, 2, 3, 3, 4])
        meetings = [rng.choice(WEEKLY_SLOTS)] + ([rng.choice(LAB_SLOTS)] if credits == 4 else [])
        # The same department's course one level down, which every earlier semester also offers.
        requires_previous_level = position > 0 and level > 0 and rng.random() < PREREQUISITE_SHARE
        course_list.append(
            DemoCourse(
                course_id=course_id_for(seed, semester_id=semester_id, number_in_semester=number // semesters),
                course_code=f"{department_code} {100 + level}",
                title=f"{rng.choice(TITLE_LEVELS)} {rng.choice(TITLE_SUBJECTS)}",
                description=f"A demo course of department {department_code} in semester {semester_id}.",
                semester_id=semester_id,
                department_id=department_id,
                instructor_id=instructor_users[number % len(instructor_users)].user_id,
                credits=credits,
                capacity=rng.choice([20, 30, 40, 60, 100, 150]),
                meetings=meetings,
                prerequisites=[f"{department_code} {100 + level - 1}"] if requires_previous_level else [],
                created_at=DEMO_EPOCH + timedelta(days=1, seconds=number),
            )
        )

    registrar = Registrar(
        semester_list, credit_limit=DEFAULT_CREDIT_LIMIT, now=datetime.combine(today, time(), tzinfo=UTC)
    )
    showcase = arrange_showcase(
        courses=course_list,
        students=student_users,
        instructors=instructor_users,
        semester_ids=semester_ids,
        departments=departments,
        registrar=registrar,
    )
    dataset = DemoDataset(users=users, courses=course_list, semesters=semester_list, showcase=showcase)
    reserved_courses = showcase.reserved_course_ids if showcase else set()
    reserved_students = showcase.reserved_user_ids if showcase else set()
    open_courses = [
        course
        for course in course_list
        if course.course_id not in reserved_courses
        and registrar.semesters[course.semester_id].registration_has_opened(registrar.now)
    ]
    enrolling = [student for student in student_users if student.user_id not in reserved_students]
    attempts = 0
    while open_courses and enrolling and registrar.enrollment_count < enrollments and attempts < enrollments * 20:
        attempts += 1
        student = enrolling[rng.randrange(len(enrolling))]
        course = open_courses[rng.randrange(len(open_courses))]
        if registrar.refusal(student.user_id, course) is None:
            registrar.enroll(student.user_id, course)
    dataset.enrollments_by_course = registrar.enrollments_by_course
    return dataset
