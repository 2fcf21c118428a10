"""Input validation for courses and the documented course shape."""

from __future__ import annotations

import re
from typing import Any

from rest_framework import serializers

from courseproject.api.fields import BoundedListField, IdField, TextField
from courseproject.api.rendering import isoformat
from courseproject.api.schema import PageQuerySerializer
from courseproject.ids import MAX_SEMESTER_ID
from courses.models import DEFAULT_WAITLIST_CAPACITY, Course

COURSE_CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9 -]{0,18}[A-Z0-9]$")
MAX_CAPACITY = 10_000
# A waitlist is read whole for each promotion and each position: bounded.
MAX_WAITLIST_CAPACITY = 1_000
MAX_CREDITS = 30
MAX_DEPARTMENT_ID = 9_999


def course_representation(course: Course) -> dict[str, Any]:
    return {
        "course_id": course.course_id,
        "course_code": course.course_code,
        "title": course.title,
        "description": course.description,
        "semester_id": int(course.semester_id),
        "department_id": int(course.department_id),
        "instructor_id": course.instructor_id,
        "credits": int(course.credits),
        "meetings": course.meetings or [],
        "prerequisites": course.prerequisites or [],
        "capacity": int(course.capacity),
        "enrolled_count": int(course.enrolled_count),
        "seats_available": course.seats_available,
        "waitlist_capacity": int(course.waitlist_capacity),
        "waitlisted_count": int(course.waitlisted_count or 0),
        "created_at": isoformat(course.created_at),
        "updated_at": isoformat(course.updated_at),
    }


DAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
MAX_MEETINGS = 10
MAX_PREREQUISITES = 20
TIME_OF_DAY_PATTERN = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


class TimeOfDayField(TextField):
    """A wall-clock time, HH:MM on the 24-hour clock; kept as that text, which sorts as time does."""

    default_error_messages = {"time_of_day": "Use HH:MM on the 24-hour clock, like 09:00 or 17:30."}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=5, **kwargs)

    def to_internal_value(self, data: object) -> str:
        value = super().to_internal_value(data)
        if not TIME_OF_DAY_PATTERN.match(value):
            self.fail("time_of_day")
        return value


class MeetingSerializer(serializers.Serializer):
    """One weekly meeting: the days it is held, from when to when (local wall-clock time)."""

    days = BoundedListField(child=serializers.ChoiceField(choices=DAYS), min_length=1, max_length=len(DAYS))
    start = TimeOfDayField()
    end = TimeOfDayField()

    def validate_days(self, days: list[str]) -> list[str]:
        if len(set(days)) != len(days):
            raise serializers.ValidationError("Name each day once.")
        return sorted(days, key=DAYS.index)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["end"] <= attrs["start"]:
            raise serializers.ValidationError({"end": ["Must be after start."]})
        return attrs


class CourseSerializer(serializers.Serializer):
    """The course as the API returns it."""

    course_id = serializers.CharField()
    course_code = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    semester_id = serializers.IntegerField()
    department_id = serializers.IntegerField()
    instructor_id = serializers.CharField()
    credits = serializers.IntegerField()
    meetings = MeetingSerializer(many=True)
    prerequisites = serializers.ListField(child=serializers.CharField())
    capacity = serializers.IntegerField()
    enrolled_count = serializers.IntegerField()
    seats_available = serializers.IntegerField(help_text="0 while anyone is on the waitlist: a freed seat is theirs.")
    waitlist_capacity = serializers.IntegerField(help_text="How many may wait for a seat; 0 means no waitlist.")
    waitlisted_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class CourseCodeField(TextField):
    def to_internal_value(self, data: object) -> str:
        value = super().to_internal_value(data).upper()
        if not COURSE_CODE_PATTERN.match(value):
            raise serializers.ValidationError("Use 2 to 20 letters, digits, spaces or dashes, like CS 101.")
        return value


def meetings_field(**kwargs: Any) -> MeetingSerializer:
    return MeetingSerializer(many=True, max_length=MAX_MEETINGS, **kwargs)


class PrerequisitesField(BoundedListField):
    """Course codes, at most MAX_PREREQUISITES as sent, each kept once (as normalized: upper case,
    in the order first given)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(child=CourseCodeField(max_length=20), max_length=MAX_PREREQUISITES, **kwargs)

    def to_internal_value(self, data: Any) -> list[str]:
        codes = super().to_internal_value(data)
        return list(dict.fromkeys(codes))


class CourseCreateSerializer(serializers.Serializer):
    course_code = CourseCodeField(max_length=20)
    title = TextField(max_length=200)
    description = TextField(max_length=5000, multiline=True, allow_blank=True, required=False, default="")
    semester_id = serializers.IntegerField(min_value=1, max_value=MAX_SEMESTER_ID)
    department_id = serializers.IntegerField(min_value=1, max_value=MAX_DEPARTMENT_ID)
    credits = serializers.IntegerField(min_value=0, max_value=MAX_CREDITS)
    capacity = serializers.IntegerField(min_value=1, max_value=MAX_CAPACITY)
    waitlist_capacity = serializers.IntegerField(
        min_value=0, max_value=MAX_WAITLIST_CAPACITY, required=False, default=DEFAULT_WAITLIST_CAPACITY
    )
    meetings = meetings_field(required=False, default=list)
    prerequisites = PrerequisitesField(required=False, default=list)
    # Admins name the instructor; an instructor always creates their own course.
    instructor_id = IdField(required=False)


class CourseUpdateSerializer(serializers.Serializer):
    course_code = CourseCodeField(max_length=20, required=False)
    title = TextField(max_length=200, required=False)
    description = TextField(max_length=5000, multiline=True, allow_blank=True, required=False)
    department_id = serializers.IntegerField(min_value=1, max_value=MAX_DEPARTMENT_ID, required=False)
    credits = serializers.IntegerField(min_value=0, max_value=MAX_CREDITS, required=False)
    capacity = serializers.IntegerField(min_value=1, max_value=MAX_CAPACITY, required=False)
    waitlist_capacity = serializers.IntegerField(min_value=0, max_value=MAX_WAITLIST_CAPACITY, required=False)
    meetings = meetings_field(required=False)
    prerequisites = PrerequisitesField(required=False)
    instructor_id = IdField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if isinstance(self.initial_data, dict) and "semester_id" in self.initial_data:
            raise serializers.ValidationError(
                {"semester_id": ["A course cannot move to another semester; create a new course instead."]}
            )
        if not attrs:
            raise serializers.ValidationError({"non_field_errors": ["Nothing to change."]})
        return attrs


class CourseListQuerySerializer(PageQuerySerializer):
    semester_id = serializers.IntegerField(min_value=1, max_value=MAX_SEMESTER_ID, required=False)
    department_id = serializers.IntegerField(min_value=1, max_value=MAX_DEPARTMENT_ID, required=False)
    instructor_id = IdField(required=False)
