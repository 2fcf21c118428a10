"""The Enrollments table (one record per student and course, kept after a drop; a place on the
course's waitlist is the same record with status `waitlisted`), and the two records
per student that the registration rules read and that enroll and drop keep in the same transaction:
a Schedule per semester (enrolled courses with their credits and meetings) and a Transcript
(what the student has taken, for prerequisites)."""

from __future__ import annotations

from enum import StrEnum

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from courseproject.dynamo.models import DynamoModel, TableMeta, table_name


class EnrollmentStatus(StrEnum):
    ENROLLED = "enrolled"
    DROPPED = "dropped"
    COMPLETED = "completed"
    WAITLISTED = "waitlisted"
    # Left the waitlist (the student, or an admin removing them), skipped at promotion because the
    # student no longer qualified (`skip_reason`), or still waiting at the add deadline.
    WAITLIST_LEFT = "waitlist_left"
    WAITLIST_SKIPPED = "waitlist_skipped"
    WAITLIST_EXPIRED = "waitlist_expired"


# Statuses from which a student may enroll or join the waitlist again (at its end).
ENDED_STATUSES = frozenset(
    {
        EnrollmentStatus.DROPPED,
        EnrollmentStatus.WAITLIST_LEFT,
        EnrollmentStatus.WAITLIST_SKIPPED,
        EnrollmentStatus.WAITLIST_EXPIRED,
    }
)


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


class WaitlistByCourse(GlobalSecondaryIndex["Enrollment"]):
    """A course's waitlist in join order. Sparse: only a waiting enrollment carries
    `waitlist_course_id`, so the index holds exactly the people waiting."""

    class Meta:
        index_name = "WaitlistByCourse"
        projection = AllProjection()

    waitlist_course_id = UnicodeAttribute(hash_key=True)
    waitlist_sequence = NumberAttribute(range_key=True)


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
    # The place taken in the course's waitlist (its sequence at the join), kept after a promotion so
    # the order can be checked; `waitlist_course_id` only while waiting (the sparse index's key).
    waitlist_sequence = NumberAttribute(null=True)
    waitlist_course_id = UnicodeAttribute(null=True)
    waitlisted_at = UTCDateTimeAttribute(null=True)
    promoted_at = UTCDateTimeAttribute(null=True)
    # When the seat the student was promoted into had been freed (promotion lag = promoted_at - this).
    seat_freed_at = UTCDateTimeAttribute(null=True)
    skip_reason = UnicodeAttribute(null=True)

    by_user = EnrollmentsByUser()
    by_course = EnrollmentsByCourse()
    waitlist_by_course = WaitlistByCourse()


class Schedule(DynamoModel):
    """A student's courses in one semester, with what the credit and time-conflict rules need of
    each: `courses` maps a course id to {"course_code", "credits", "meetings"}. Every enroll and drop
    rewrites it in its transaction, conditioned on the `version` it read, so two requests of one
    student can never both pass a rule that only one of them may pass."""

    class Meta(TableMeta):
        table_name = table_name("Schedules")

    user_id = UnicodeAttribute(hash_key=True)
    semester_id = NumberAttribute(range_key=True)
    courses = JSONAttribute(default=dict)
    enrolled_credits = NumberAttribute(default=0)
    # Course id -> waitlist sequence of the courses the student waits for (they count toward neither
    # credits nor conflicts; kept here, on the same version, for the per-semester waitlist limit).
    waitlists = JSONAttribute(default=dict)
    version = NumberAttribute(default=0)
    updated_at = UTCDateTimeAttribute(null=True)


# The transcript's key of a course taken outside the university (transfer credit): earlier than any semester.
TRANSFER_SEMESTER = 0


def transcript_key(*, course_code: str, semester_id: int) -> str:
    return f"{course_code}#{semester_id}"


class Transcript(DynamoModel):
    """What a student has taken, for prerequisites: `entries` maps "CODE#semester" to "enrolled" or
    "completed" (semester 0 for transfer credit). Kept in the enroll, drop and completion
    transactions, conditioned on `version` like the schedule."""

    class Meta(TableMeta):
        table_name = table_name("Transcripts")

    user_id = UnicodeAttribute(hash_key=True)
    entries = JSONAttribute(default=dict)
    version = NumberAttribute(default=0)
    updated_at = UTCDateTimeAttribute(null=True)
