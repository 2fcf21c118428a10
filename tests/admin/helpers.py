"""What the admin tests share: the sections' addresses, signing in through the login page, and
reading a response as a person would (its text, its messages, a streamed download)."""

from __future__ import annotations

from django.test import Client

from tests.conftest import TEST_PASSWORD, Person

COURSES = "/admin/courses/course/"
ENROLLMENTS = "/admin/enrollments/enrollment/"
USERS = "/admin/accounts/user/"
AUDIT = "/admin/audit/auditrecord/"
SEMESTERS = "/admin/semesters/semester/"


def signed_in(person: Person) -> Client:
    client = Client()
    response = client.post("/admin/login/", {"username": person.user.email, "password": TEST_PASSWORD})
    assert response.status_code == 302, response.content.decode()
    return client


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []


def streamed_text(response) -> str:
    """The body of a streamed response (the roster exports), as the browser would save it."""
    return b"".join(response.streaming_content).decode()


def text(response) -> str:
    return response.content.decode()
