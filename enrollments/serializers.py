"""Input validation for enrollments and the documented enrollment shapes."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from courseproject.api.fields import BoundedListField, IdField
from courseproject.api.rendering import isoformat
from courseproject.api.schema import PageQuerySerializer
from courseproject.ids import MAX_SEMESTER_ID
from courses.serializers import CourseCodeField, CourseSerializer
from enrollments.models import Enrollment, EnrollmentStatus


def enrollment_representation(enrollment: Enrollment) -> dict[str, Any]:
    return {
        "enrollment_id": enrollment.enrollment_id,
        "user_id": enrollment.user_id,
        "course_id": enrollment.course_id,
        "semester_id": int(enrollment.semester_id),
        "status": enrollment.status,
        "enrolled_at": isoformat(enrollment.enrolled_at),
        "dropped_at": isoformat(enrollment.dropped_at),
        # Laid over by the selectors for a waiting student (it changes as others leave or are promoted).
        "waitlist_position": None,
        "skip_reason": enrollment.skip_reason,
    }


class EnrollmentSerializer(serializers.Serializer):
    enrollment_id = serializers.CharField()
    user_id = serializers.CharField()
    course_id = serializers.CharField()
    semester_id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=[status.value for status in EnrollmentStatus])
    enrolled_at = serializers.DateTimeField(help_text="When the student enrolled, or joined the waitlist.")
    dropped_at = serializers.DateTimeField(allow_null=True)
    waitlist_position = serializers.IntegerField(
        allow_null=True, help_text="While waitlisted, the place on the course's waitlist (1 is next); else null."
    )
    skip_reason = serializers.ChoiceField(
        choices=["time_conflict", "credit_limit_exceeded", "registration_closed", "prerequisites_missing"],
        allow_null=True,
        help_text="Why a waitlisted student was passed over when a seat freed (status waitlist_skipped).",
    )


class EnrollmentWithCourseSerializer(EnrollmentSerializer):
    course = CourseSerializer(allow_null=True, help_text="Null when the course has since been deleted.")


class StudentSummarySerializer(serializers.Serializer):
    user_id = serializers.CharField()
    name = serializers.CharField()
    email = serializers.EmailField()


class RosterEntrySerializer(EnrollmentSerializer):
    student = StudentSummarySerializer(allow_null=True)


class EnrollSerializer(serializers.Serializer):
    course_id = IdField()
    waitlist = serializers.BooleanField(
        required=False, default=False, help_text="On a full course, join its waitlist instead of answering 409."
    )


class RosterQuerySerializer(PageQuerySerializer):
    status = serializers.ChoiceField(
        choices=[EnrollmentStatus.ENROLLED.value, EnrollmentStatus.WAITLISTED.value],
        default=EnrollmentStatus.ENROLLED.value,
    )


class CompletionsSerializer(serializers.Serializer):
    """Either the students to mark completed, or all: true for every enrolled student."""

    MAX_STUDENTS = 1000

    user_ids = BoundedListField(child=IdField(), min_length=1, max_length=MAX_STUDENTS, required=False)
    all = serializers.BooleanField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("user_ids" in attrs) == bool(attrs.get("all")):
            raise serializers.ValidationError("Give either user_ids or all: true.")
        return attrs


class CompletionsResultSerializer(serializers.Serializer):
    completed = serializers.ListField(child=serializers.CharField())
    already_completed = serializers.ListField(child=serializers.CharField())
    not_enrolled = serializers.ListField(child=serializers.CharField())


class TransferCreditSerializer(serializers.Serializer):
    """A course taken elsewhere, recorded by the registrar (the admin's form), by our course's code."""

    course_code = CourseCodeField(max_length=20)


class MyEnrollmentsQuerySerializer(PageQuerySerializer):
    semester_id = serializers.IntegerField(min_value=1, max_value=MAX_SEMESTER_ID, required=False)
    status = serializers.ChoiceField(choices=[status.value for status in EnrollmentStatus], required=False)
