"""The Courses table: course data plus the seat counter that enroll and drop update atomically."""

from __future__ import annotations

import zlib

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection

from courseproject.dynamo.models import DynamoModel, TableMeta, table_name


class CoursesBySemester(GlobalSecondaryIndex["Course"]):
    """A semester's catalogue, optionally narrowed to one department."""

    class Meta:
        index_name = "CoursesBySemester"
        projection = AllProjection()

    semester_id = NumberAttribute(hash_key=True)
    department_id = NumberAttribute(range_key=True)


class CoursesByInstructor(GlobalSecondaryIndex["Course"]):
    """An instructor's dashboard, ordered by course code."""

    class Meta:
        index_name = "CoursesByInstructor"
        projection = AllProjection()

    instructor_id = UnicodeAttribute(hash_key=True)
    course_code = UnicodeAttribute(range_key=True)


class CoursesByCode(GlobalSecondaryIndex["Course"]):
    """The admin's lookup by course code, one item per semester. Keys only: seat changes, the most
    frequent write, then never touch this index."""

    class Meta:
        index_name = "CoursesByCode"
        projection = KeysOnlyProjection()

    course_code = UnicodeAttribute(hash_key=True)
    semester_id = NumberAttribute(range_key=True)


class CoursesWithWaitlist(GlobalSecondaryIndex["Course"]):
    """Sparse: only courses someone waits for carry `waitlist_shard`, so the promotion sweep reads
    those and nothing else (a few partitions, never a Scan). Keys only: the sweep reads the courses
    themselves, consistently."""

    class Meta:
        index_name = "CoursesWithWaitlist"
        projection = KeysOnlyProjection()

    waitlist_shard = NumberAttribute(hash_key=True)
    course_id = UnicodeAttribute(range_key=True)


# Partitions of CoursesWithWaitlist; a course's shard is fixed by its id.
WAITLIST_SHARDS = 4
DEFAULT_WAITLIST_CAPACITY = 20


def waitlist_shard_of(course_id: str) -> int:
    return zlib.crc32(course_id.encode()) % WAITLIST_SHARDS


class Course(DynamoModel):
    class Meta(TableMeta):
        table_name = table_name("Courses")

    course_id = UnicodeAttribute(hash_key=True)
    course_code = UnicodeAttribute()
    title = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    semester_id = NumberAttribute()
    department_id = NumberAttribute()
    instructor_id = UnicodeAttribute()
    credits = NumberAttribute()
    capacity = NumberAttribute()
    enrolled_count = NumberAttribute(default=0)
    # The waitlist: how many may wait (0: none), how many do, and the sequence the next joiner takes,
    # bumped inside each join's transaction so that join order never depends on clocks.
    waitlist_capacity = NumberAttribute(default=DEFAULT_WAITLIST_CAPACITY)
    waitlisted_count = NumberAttribute(default=0)
    waitlist_sequence = NumberAttribute(default=0)
    # Present while someone waits (set by each join, removed by the sweep once nobody does): the
    # CoursesWithWaitlist index's key.
    waitlist_shard = NumberAttribute(null=True)
    # When the oldest seat not yet given to the waitlist was freed: promotion lag is measured from it.
    seat_freed_at = UTCDateTimeAttribute(null=True)
    # [{"days": ["MON", "WED"], "start": "09:00", "end": "10:15"}]: wall-clock times of the university.
    meetings = JSONAttribute(default=list)
    # Course codes to have completed (or be enrolled in) in an earlier semester.
    prerequisites = JSONAttribute(default=list)
    # Bumped by every write (edits, enrolls, drops): cached copies compare it to never go backwards.
    revision = NumberAttribute(default=0)
    # Bumped only when what the registration rules read changes (credits, meetings, prerequisites): an
    # enroll commits only if it is still the one its rules were checked against.
    rules_revision = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()

    by_semester = CoursesBySemester()
    by_instructor = CoursesByInstructor()
    by_code = CoursesByCode()
    with_waitlist = CoursesWithWaitlist()

    @property
    def seats_available(self) -> int:
        return seats_available(
            capacity=int(self.capacity),
            enrolled_count=int(self.enrolled_count),
            waitlisted_count=int(self.waitlisted_count or 0),
        )


def seats_available(*, capacity: int, enrolled_count: int, waitlisted_count: int) -> int:
    """Seats a new student could take: none while anyone waits, since a freed seat is theirs."""
    return 0 if waitlisted_count > 0 else max(0, capacity - enrolled_count)
