"""Deterministic demo data: the same arguments and seed always describe the same items.

`build_demo_dataset` only computes; the seed_demo command writes what is missing. Ids are UUID5s of
(seed, kind, number), so re-seeding finds the items it wrote before instead of duplicating them.
"""

from __future__ import annotations

import os
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from courseproject.ids import consecutive_semesters

DEMO_NAMESPACE = uuid.UUID("6f1c2a7e-3c1b-4f7a-9d64-2f1b1f0c9a11")
DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "registration-demo")
DEMO_EMAIL_DOMAIN = "demo.edu"
DEMO_EPOCH = datetime(2026, 1, 5, tzinfo=UTC)
FIRST_DEMO_SEMESTER = 20261

DEPARTMENT_CODES = [
    "CS",
    "MATH",
    "PHYS",
    "CHEM",
    "BIO",
    "ECON",
    "HIST",
    "ENG",
    "PHIL",
    "PSY",
    "SOC",
    "ART",
    "MUS",
    "LING",
    "GEO",
    "STAT",
    "EE",
    "ME",
    "CE",
    "POL",
]
TITLE_LEVELS = ["Introduction to", "Foundations of", "Topics in", "Advanced", "Seminar in", "Applied"]
TITLE_SUBJECTS = [
    "Algorithms",
    "Data Systems",
    "Linear Models",
    "Thermodynamics",
    "Genetics",
    "Markets",
    "Modern Europe",
    "Rhetoric",
    "Ethics",
    "Cognition",
    "Cities",
    "Drawing",
    "Harmony",
    "Syntax",
    "Climate",
    "Inference",
    "Signals",
    "Mechanics",
    "Structures",
    "Institutions",
]
FIRST_NAMES = [
    "Ada",
    "Alan",
    "Grace",
    "Edsger",
    "Barbara",
    "Donald",
    "Frances",
    "John",
    "Margaret",
    "Ken",
    "Radia",
    "Tim",
    "Shafi",
    "Leslie",
    "Sophie",
    "Dennis",
    "Karen",
    "Niklaus",
    "Hedy",
    "Claude",
]
LAST_NAMES = [
    "Lovelace",
    "Turing",
    "Hopper",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Allen",
    "Backus",
    "Hamilton",
    "Thompson",
    "Perlman",
    "Berners-Lee",
    "Goldwasser",
    "Lamport",
    "Wilson",
    "Ritchie",
    "Jones",
    "Wirth",
    "Lamarr",
    "Shannon",
]


def demo_id(seed: int, kind: str, number: int) -> str:
    return uuid.uuid5(DEMO_NAMESPACE, f"{seed}:{kind}:{number}").hex


def semester_ids(count: int) -> list[int]:
    """The demo's semesters: 20261, 20262, 20263, 20271, ..."""
    return consecutive_semesters(FIRST_DEMO_SEMESTER, count)


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
    created_at: datetime


@dataclass(frozen=True)
class DemoEnrollment:
    user_id: str
    course_id: str
    semester_id: int
    enrolled_at: datetime


@dataclass
class DemoDataset:
    users: list[DemoUser]
    courses: list[DemoCourse]
    enrollments_by_course: dict[str, list[DemoEnrollment]] = field(default_factory=dict)

    @property
    def enrollment_count(self) -> int:
        return sum(len(enrollments) for enrollments in self.enrollments_by_course.values())


def _person_name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def build_demo_dataset(
    *, courses: int, students: int, enrollments: int, instructors: int, semesters: int, departments: int, seed: int
) -> DemoDataset:
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

    semester_list = semester_ids(semesters)
    course_list: list[DemoCourse] = []
    for number in range(courses):
        semester_id = semester_list[number % semesters]
        department_id = (number // semesters) % departments + 1
        level = number // (semesters * departments)
        department_code = (
            DEPARTMENT_CODES[department_id - 1] if department_id <= len(DEPARTMENT_CODES) else f"D{department_id}"
        )
        course_list.append(
            DemoCourse(
                course_id=demo_id(seed, "course", number),
                course_code=f"{department_code} {100 + level}",
                title=f"{rng.choice(TITLE_LEVELS)} {rng.choice(TITLE_SUBJECTS)}",
                description=f"A demo course of department {department_code} in semester {semester_id}.",
                semester_id=semester_id,
                department_id=department_id,
                instructor_id=instructor_users[number % len(instructor_users)].user_id,
                credits=rng.choice([1, 2, 3, 3, 4]),
                capacity=rng.choice([20, 30, 40, 60, 100, 150]),
                created_at=DEMO_EPOCH + timedelta(days=1, seconds=number),
            )
        )

    dataset = DemoDataset(users=users, courses=course_list)
    if not student_users or not course_list:
        return dataset
    taken: set[tuple[str, str]] = set()
    seats_left = {course.course_id: course.capacity for course in course_list}
    attempts = 0
    while len(taken) < enrollments and attempts < enrollments * 20:
        attempts += 1
        student = student_users[rng.randrange(len(student_users))]
        course = course_list[rng.randrange(len(course_list))]
        pair = (student.user_id, course.course_id)
        if pair in taken or seats_left[course.course_id] == 0:
            continue
        taken.add(pair)
        seats_left[course.course_id] -= 1
        dataset.enrollments_by_course.setdefault(course.course_id, []).append(
            DemoEnrollment(
                user_id=student.user_id,
                course_id=course.course_id,
                semester_id=course.semester_id,
                enrolled_at=DEMO_EPOCH + timedelta(days=2, seconds=len(taken)),
            )
        )
    return dataset
