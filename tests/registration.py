"""Helpers of the registration-rule tests: a semester whose window is fixed in 2031 (the tests
travel there with time-machine), meetings, and the API as a person at the travelled-to time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from rest_framework.test import APIClient

from courses.models import Course
from tests.conftest import Person, authenticated_client, open_semester

OPENS_AT = datetime(2031, 3, 2, 14, 0, tzinfo=UTC)
ADD_DEADLINE = datetime(2031, 3, 20, 23, 59, 59, tzinfo=UTC)
DROP_DEADLINE = datetime(2031, 4, 15, 23, 59, 59, tzinfo=UTC)
DURING_REGISTRATION = OPENS_AT + timedelta(days=1)


def windowed_semester(**rules: Any) -> int:
    """A semester opening at OPENS_AT, adding until ADD_DEADLINE and dropping until DROP_DEADLINE."""
    return open_semester(
        registration_opens_at=OPENS_AT, add_deadline=ADD_DEADLINE, drop_deadline=DROP_DEADLINE, **rules
    )


def meeting(days: list[str], start: str, end: str) -> dict[str, Any]:
    return {"days": days, "start": start, "end": end}


def client_of(person: Person) -> APIClient:
    """The person's API client with a token issued now: inside time_machine.travel, tokens issued
    before the jump have expired (or are not valid yet)."""
    return authenticated_client(person.user)


def enroll(person: Person, course: Course) -> Any:
    return client_of(person).post("/api/enrollments", {"course_id": course.course_id}, format="json")
