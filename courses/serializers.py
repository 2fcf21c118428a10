"""Input validation for courses and the documented course shape."""

from __future__ import annotations

import re
from typing import Any

from rest_framework import serializers

from courseproject.api.fields import IdField, TextField
from courseproject.api.rendering import isoformat
from courseproject.api.schema import PageQuerySerializer
from courses.models import Course

COURSE_CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9 -]{0,18}[A-Z0-9]$")
MAX_CAPACITY = 10_000
MAX_CREDITS = 30
MAX_SEMESTER_ID = 999_999
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
        "capacity": int(course.capacity),
        "enrolled_count": int(course.enrolled_count),
        "seats_available": course.seats_available,
        "created_at": isoformat(course.created_at),
        "updated_at": isoformat(course.updated_at),
    }


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
    capacity = serializers.IntegerField()
    enrolled_count = serializers.IntegerField()
    seats_available = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class CourseCodeField(TextField):
    def to_internal_value(self, data: object) -> str:
        value = super().to_internal_value(data).upper()
        if not COURSE_CODE_PATTERN.match(value):
            raise serializers.ValidationError("Use 2 to 20 letters, digits, spaces or dashes, like CS 101.")
        return value


class CourseCreateSerializer(serializers.Serializer):
    course_code = CourseCodeField(max_length=20)
    title = TextField(max_length=200)
    description = TextField(max_length=5000, multiline=True, allow_blank=True, required=False, default="")
    semester_id = serializers.IntegerField(min_value=1, max_value=MAX_SEMESTER_ID)
    department_id = serializers.IntegerField(min_value=1, max_value=MAX_DEPARTMENT_ID)
    credits = serializers.IntegerField(min_value=0, max_value=MAX_CREDITS)
    capacity = serializers.IntegerField(min_value=1, max_value=MAX_CAPACITY)
    # Admins name the instructor; an instructor always creates their own course.
    instructor_id = IdField(required=False)


class CourseUpdateSerializer(serializers.Serializer):
    course_code = CourseCodeField(max_length=20, required=False)
    title = TextField(max_length=200, required=False)
    description = TextField(max_length=5000, multiline=True, allow_blank=True, required=False)
    department_id = serializers.IntegerField(min_value=1, max_value=MAX_DEPARTMENT_ID, required=False)
    credits = serializers.IntegerField(min_value=0, max_value=MAX_CREDITS, required=False)
    capacity = serializers.IntegerField(min_value=1, max_value=MAX_CAPACITY, required=False)
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
