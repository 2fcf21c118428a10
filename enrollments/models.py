"""The Enrollments table: one record per (student, course), kept after a drop."""

from __future__ import annotations

from enum import StrEnum

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from courseproject.dynamo.models import DynamoModel, TableMeta, table_name


class EnrollmentStatus(StrEnum):
    ENROLLED = "enrolled"
    DROPPED = "dropped"


def enrollment_id_for(*, user_id: str, course_id: str) -> str:
    """Deterministic, so a retried enroll hits the same item instead of creating a second one."""
    return f"{user_id}#{course_id}"


class EnrollmentsByUser(GlobalSecondaryIndex["Enrollment"]):
    """A student's enrollments, newest first."""

    class Meta:
        index_name = "EnrollmentsByUser"
        projection = AllProjection()

    user_id = UnicodeAttribute(hash_key=True)
    enrolled_at = UTCDateTimeAttribute(range_key=True)


class EnrollmentsByCourse(GlobalSecondaryIndex["Enrollment"]):
    """A course's roster in enrollment order."""

    class Meta:
        index_name = "EnrollmentsByCourse"
        projection = AllProjection()

    course_id = UnicodeAttribute(hash_key=True)
    enrolled_at = UTCDateTimeAttribute(range_key=True)


class Enrollment(DynamoModel):
    class Meta(TableMeta):
        table_name = table_name("Enrollments")

    enrollment_id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    course_id = UnicodeAttribute()
    semester_id = NumberAttribute()
    status = UnicodeAttribute()
    enrolled_at = UTCDateTimeAttribute()
    dropped_at = UTCDateTimeAttribute(null=True)
    updated_at = UTCDateTimeAttribute()

    by_user = EnrollmentsByUser()
    by_course = EnrollmentsByCourse()
