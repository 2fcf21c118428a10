"""The Semesters table: one record per semester, holding the rules registration follows."""

from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from courseproject.dynamo.models import DynamoModel, TableMeta, table_name

DEFAULT_CREDIT_LIMIT = 18
# Every semester shares one index key: a university has tens of semesters, never millions, and one
# partition lists them all newest first with a Query.
CATALOG = "semesters"


class SemestersNewestFirst(GlobalSecondaryIndex["Semester"]):
    class Meta:
        index_name = "SemestersNewestFirst"
        projection = AllProjection()

    catalog = UnicodeAttribute(hash_key=True)
    semester_id = NumberAttribute(range_key=True)


class Semester(DynamoModel):
    class Meta(TableMeta):
        table_name = table_name("Semesters")

    semester_id = NumberAttribute(hash_key=True)
    catalog = UnicodeAttribute(default=CATALOG)
    name = UnicodeAttribute()
    registration_opens_at = UTCDateTimeAttribute()
    add_deadline = UTCDateTimeAttribute()
    drop_deadline = UTCDateTimeAttribute()
    credit_limit = NumberAttribute(default=DEFAULT_CREDIT_LIMIT)
    # Bumped by every write: cached copies compare it to never go backwards.
    revision = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()

    newest_first = SemestersNewestFirst()

    def registration_is_open(self, at: datetime) -> bool:
        """Open from the opening instant itself up to and including the add deadline."""
        return self.registration_opens_at <= at <= self.add_deadline

    def add_deadline_passed(self, at: datetime) -> bool:
        """Nobody is added from here on: the waitlists expire."""
        return at > self.add_deadline

    def drop_deadline_passed(self, at: datetime) -> bool:
        return at > self.drop_deadline
