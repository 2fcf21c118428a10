"""Input validation for semesters and the documented semester shape."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from courseproject.api.fields import AwareDateTimeField, TextField
from courseproject.api.rendering import isoformat
from courseproject.ids import MAX_SEMESTER_ID, MIN_SEMESTER_ID, is_semester_id
from semesters.models import DEFAULT_CREDIT_LIMIT, Semester

MAX_CREDIT_LIMIT = 100
WINDOW_ORDER_MESSAGE = "Must not be before registration_opens_at."
SEMESTER_ID_MESSAGE = "A semester id is a year and a term (1 spring, 2 summer, 3 fall), like 20271 for spring 2027."


def semester_representation(semester: Semester) -> dict[str, Any]:
    return {
        "semester_id": int(semester.semester_id),
        "name": semester.name,
        "registration_opens_at": isoformat(semester.registration_opens_at),
        "add_deadline": isoformat(semester.add_deadline),
        "drop_deadline": isoformat(semester.drop_deadline),
        "credit_limit": int(semester.credit_limit),
    }


class SemesterSerializer(serializers.Serializer):
    """The semester as the API returns it (times in UTC)."""

    semester_id = serializers.IntegerField()
    name = serializers.CharField()
    registration_opens_at = serializers.DateTimeField()
    add_deadline = serializers.DateTimeField()
    drop_deadline = serializers.DateTimeField()
    credit_limit = serializers.IntegerField()


def window_errors(*, registration_opens_at: Any, add_deadline: Any, drop_deadline: Any) -> dict[str, list[str]]:
    """The deadlines that come before registration opens, by field (empty when the window is sound)."""
    return {
        name: [WINDOW_ORDER_MESSAGE]
        for name, deadline in (("add_deadline", add_deadline), ("drop_deadline", drop_deadline))
        if deadline < registration_opens_at
    }


class SemesterCreateSerializer(serializers.Serializer):
    semester_id = serializers.IntegerField(min_value=MIN_SEMESTER_ID, max_value=MAX_SEMESTER_ID)
    name = TextField(max_length=100)
    registration_opens_at = AwareDateTimeField()
    add_deadline = AwareDateTimeField()
    drop_deadline = AwareDateTimeField()
    credit_limit = serializers.IntegerField(min_value=1, max_value=MAX_CREDIT_LIMIT, default=DEFAULT_CREDIT_LIMIT)

    def validate_semester_id(self, value: int) -> int:
        # Only these have a name and a place in the calendar (courseproject/ids.py).
        if not is_semester_id(value):
            raise serializers.ValidationError(SEMESTER_ID_MESSAGE)
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        errors = window_errors(
            registration_opens_at=attrs["registration_opens_at"],
            add_deadline=attrs["add_deadline"],
            drop_deadline=attrs["drop_deadline"],
        )
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class SemesterUpdateSerializer(serializers.Serializer):
    """Any of the fields; the window's order is checked against the stored record by the service."""

    name = TextField(max_length=100, required=False)
    registration_opens_at = AwareDateTimeField(required=False)
    add_deadline = AwareDateTimeField(required=False)
    drop_deadline = AwareDateTimeField(required=False)
    credit_limit = serializers.IntegerField(min_value=1, max_value=MAX_CREDIT_LIMIT, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise serializers.ValidationError("Give at least one field to change.")
        return attrs
