"""The AuditLog table: who changed what, when, with the values before and after."""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from courseproject.dynamo.models import DynamoModel, TableMeta, table_name

# The action of the record kept in a student's history when an admin enrolled them past the rules
# (the enrollment's own history has the enrollment with the reason too).
RULES_OVERRIDDEN = "rules_overridden"
# The action of the record kept in a student's history when courses entered their transcript without
# an enrollment of theirs (transfer credit, completion-import rows they were not enrolled for).
TRANSCRIPT_RECORDED = "transcript_recorded"


def entity_key_for(entity_type: str, entity_id: str) -> str:
    return f"{entity_type}#{entity_id}"


class AuditByEntity(GlobalSecondaryIndex["AuditRecord"]):
    """The history of one course, enrollment or user."""

    class Meta:
        index_name = "AuditByEntity"
        projection = AllProjection()

    entity_key = UnicodeAttribute(hash_key=True)
    occurred_at = UTCDateTimeAttribute(range_key=True)


class AuditByActor(GlobalSecondaryIndex["AuditRecord"]):
    """Everything one person did."""

    class Meta:
        index_name = "AuditByActor"
        projection = AllProjection()

    actor_id = UnicodeAttribute(hash_key=True)
    occurred_at = UTCDateTimeAttribute(range_key=True)


class AuditRecord(DynamoModel):
    class Meta(TableMeta):
        table_name = table_name("AuditLog")

    # The id of the event that caused it: a task delivered twice writes the same item once.
    audit_id = UnicodeAttribute(hash_key=True)
    entity_key = UnicodeAttribute()
    entity_type = UnicodeAttribute()
    entity_id = UnicodeAttribute()
    action = UnicodeAttribute()
    actor_id = UnicodeAttribute()
    occurred_at = UTCDateTimeAttribute()
    before = JSONAttribute(null=True)
    after = JSONAttribute(null=True)
    expires_at = TTLAttribute()

    by_entity = AuditByEntity()
    by_actor = AuditByActor()
