"""Tables of the background machinery: the outbox for tasks the broker could not take, and the
ledger that makes side effects with no natural key (sending an email) happen once."""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from courseproject.dynamo import DynamoModel, TableMeta, table_name

OUTBOX_PENDING = "pending"


class OutboxByStatus(GlobalSecondaryIndex["OutboxEvent"]):
    """Pending tasks, oldest first, for the relay (items are deleted once relayed)."""

    class Meta:
        index_name = "OutboxByStatus"
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class OutboxEvent(DynamoModel):
    class Meta(TableMeta):
        table_name = table_name("Outbox")

    event_id = UnicodeAttribute(hash_key=True)
    task_name = UnicodeAttribute()
    task_kwargs = JSONAttribute()
    status = UnicodeAttribute(default=OUTBOX_PENDING)
    created_at = UTCDateTimeAttribute()
    attempts = NumberAttribute(default=0)

    by_status = OutboxByStatus()


class TaskLedgerEntry(DynamoModel):
    """`claimed` while a worker performs a side effect, `done` after; expires after a month."""

    class Meta(TableMeta):
        table_name = table_name("TaskLedger")

    ledger_key = UnicodeAttribute(hash_key=True)
    status = UnicodeAttribute()
    claimed_until = UTCDateTimeAttribute()
    completed_at = UTCDateTimeAttribute(null=True)
    expires_at = TTLAttribute()
