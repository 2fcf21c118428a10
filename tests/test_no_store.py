"""Answers with personal data or tokens are never kept by a browser or proxy: `Cache-Control:
no-store` on every API response, successes and errors alike."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.conftest import TEST_PASSWORD, unique_email


@pytest.fixture
def enrolled(student, make_course):
    course = make_course()
    assert student.client.post("/api/enrollments", {"course_id": course.course_id}, format="json").status_code == 201
    return student, course


def sign_in(person) -> dict:
    return APIClient().post("/api/auth/login", {"email": person.user.email, "password": TEST_PASSWORD}, format="json")


PERSONAL_ANSWERS = {
    "my profile": lambda student, course, instructor: student.client.get("/api/auth/me"),
    "my profile changed": lambda student, course, instructor: student.client.patch(
        "/api/auth/me", {"name": "Renamed"}, format="json"
    ),
    "tokens at sign-in": lambda student, course, instructor: sign_in(student),
    "a new account": lambda student, course, instructor: APIClient().post(
        "/api/auth/register", {"email": unique_email(), "password": TEST_PASSWORD, "name": "New"}, format="json"
    ),
    "tokens at refresh": lambda student, course, instructor: APIClient().post(
        "/api/auth/refresh", {"refresh": sign_in(student).json()["refresh"]}, format="json"
    ),
    "my enrollments": lambda student, course, instructor: student.client.get("/api/enrollments/me"),
    "my enrollment": lambda student, course, instructor: student.client.get(f"/api/enrollments/{course.course_id}"),
    "an enroll": lambda student, course, instructor: student.client.post(
        "/api/enrollments", {"course_id": course.course_id}, format="json"
    ),
    "a drop": lambda student, course, instructor: student.client.delete(f"/api/enrollments/{course.course_id}"),
    "a roster": lambda student, course, instructor: instructor.client.get(
        f"/api/courses/{course.course_id}/enrollments"
    ),
    "a waitlist": lambda student, course, instructor: instructor.client.get(
        f"/api/courses/{course.course_id}/enrollments", {"status": "waitlisted"}
    ),
}

ERRORS = {
    "not signed in": lambda student, course, instructor: APIClient().get("/api/auth/me"),
    "wrong password": lambda student, course, instructor: APIClient().post(
        "/api/auth/login", {"email": student.user.email, "password": "wrong-password"}, format="json"
    ),
    "another's roster": lambda student, course, instructor: student.client.get(
        f"/api/courses/{course.course_id}/enrollments"
    ),
    "no such enrollment": lambda student, course, instructor: instructor.client.get(
        f"/api/enrollments/{course.course_id}"
    ),
    "no such page": lambda student, course, instructor: student.client.get("/api/no-such-page"),
}


@pytest.mark.parametrize("answer", list(PERSONAL_ANSWERS), ids=list(PERSONAL_ANSWERS))
def test_personal_answers_are_never_stored(answer, enrolled, instructor):
    student, course = enrolled
    response = PERSONAL_ANSWERS[answer](student, course, instructor)
    assert response.status_code < 300, response.content
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("answer", list(ERRORS), ids=list(ERRORS))
def test_error_answers_are_never_stored_either(answer, enrolled, instructor):
    student, course = enrolled
    response = ERRORS[answer](student, course, instructor)
    assert response.status_code >= 400
    assert response["Cache-Control"] == "no-store"
