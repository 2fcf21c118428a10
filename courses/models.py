"""The Courses table: course data plus the seat counter that enroll and drop update atomically."""

from __future__ import annotations

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

    @property
    def seats_available(self) -> int:
        return max(0, int(self.capacity) - int(self.enrolled_count))
