"""manage.py seed_demo: deterministic, idempotent, and consistent seat counts."""

from __future__ import annotations

import io

from django.core.management import call_command
from rest_framework.test import APIClient

from courses.models import Course
from demo.dataset import DEMO_PASSWORD, build_demo_dataset, demo_id
from enrollments.models import Enrollment

SIZE = {"courses": 40, "students": 15, "enrollments": 60, "semesters": 2, "departments": 4, "seed": 7}


def seed() -> str:
    output = io.StringIO()
    call_command("seed_demo", "--no-progress", *[f"--{name}={value}" for name, value in SIZE.items()], stdout=output)
    return output.getvalue()


def test_the_same_seed_describes_the_same_data():
    arguments = {**dict(SIZE.items()), "instructors": 5}
    first, second = build_demo_dataset(**arguments), build_demo_dataset(**arguments)
    assert first.courses == second.courses
    assert first.enrollments_by_course == second.enrollments_by_course
    assert first.enrollment_count == 60


def test_seeding_twice_writes_once_and_keeps_counters_true():
    first = seed()
    assert "40 courses (40 new)" in first
    assert "60 enrollments (60 new)" in first
    assert "password 'registration-demo'" in first
    second = seed()
    assert "(0 new)" in second and "40 new" not in second

    for number in range(SIZE["courses"]):
        course = Course.get(demo_id(SIZE["seed"], "course", number), consistent_read=True)
        records = list(Enrollment.by_course.query(course.course_id))
        assert course.enrolled_count == len(records) <= course.capacity

    response = APIClient().post(
        "/api/auth/login", {"email": "student1@demo.edu", "password": DEMO_PASSWORD}, format="json"
    )
    assert response.status_code == 200
