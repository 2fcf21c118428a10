"""A web process's copies of a student's enrollment pages and of the courses they embed
(courseproject/caching/local_copies.py): served without a Redis round trip, and never after a change
of the student's enrollments or of those courses. tests/e2e/test_local_copies.py checks the same
across real server processes."""

from __future__ import annotations

import pytest
from django.conf import settings

from accounts.models import Role
from courseproject.caching import keys
from enrollments import services as enrollment_services
from tests.test_local_copies import RoundTrips, other_process

pytestmark = pytest.mark.skipif(not settings.CACHE_ENABLED, reason="exercises the cache; CACHE_ENABLED=false")


def my_enrollments(person) -> dict:
    response = person.client.get("/api/enrollments/me")
    assert response.status_code == 200, response.content
    return response.json()


def test_a_students_enrollments_are_served_from_the_copy_with_their_courses(student, make_course, monkeypatch):
    course = make_course()
    enrollment_services.enroll(actor=student.actor, course_id=course.course_id)
    my_enrollments(student)
    first = my_enrollments(student)  # the page and its courses read whole from Redis: kept
    round_trips = RoundTrips(monkeypatch)
    assert my_enrollments(student) == first
    assert round_trips.sent == []
    assert first["results"][0]["course"]["enrolled_count"] == 1


def test_a_kept_enrollments_page_follows_the_students_changes_and_their_courses(
    student, make_person, make_course, instructor
):
    taken, dropped = make_course(), make_course()
    enrollment_services.enroll(actor=student.actor, course_id=dropped.course_id)
    for _ in range(3):
        my_enrollments(student)
    enrollment_services.enroll(actor=student.actor, course_id=taken.course_id)
    enrollment_services.drop(actor=student.actor, user_id=student.user_id, course_id=dropped.course_id)
    statuses = {entry["course_id"]: entry["status"] for entry in my_enrollments(student)["results"]}
    assert statuses == {taken.course_id: "enrolled", dropped.course_id: "dropped"}

    my_enrollments(student)
    enrollment_services.enroll(actor=make_person(Role.STUDENT).actor, course_id=taken.course_id)
    response = instructor.client.patch(f"/api/courses/{taken.course_id}", {"title": "Renamed"}, format="json")
    assert response.status_code == 200, response.content
    course = next(
        entry["course"] for entry in my_enrollments(student)["results"] if entry["course_id"] == taken.course_id
    )
    assert (course["enrolled_count"], course["title"]) == (2, "Renamed")

    my_enrollments(student)
    other_process().delete(keys.my_enrollments_generation(student.user_id))
    assert len(my_enrollments(student)["results"]) == 2  # a new generation: loaded again
