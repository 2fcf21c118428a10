"""Tables of the background machinery: the outbox for tasks the broker could not take, and the
ledger that makes side effects with no natural key (sending an email) happen once."""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from courseproject.dynamo.models import DynamoModel, TableMeta, table_name

# Pending tasks are spread over shards: during a broker outage every request writes one, and a
# single index key would funnel them all into one partition.
OUTBOX_SHARDS = 8
# Tasks a worker gave up on (out of retries, over a time limit): kept for an operator to re-queue.
OUTBOX_DEAD = "dead"


def outbox_pending_status(shard: int) -> str:
    return f"pending#{shard}"


class OutboxByStatus(GlobalSecondaryIndex["OutboxEvent"]):
    """Pending (by shard) or dead tasks, oldest first, for the relay (items are deleted once relayed)."""

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
    status = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    reason = UnicodeAttribute(null=True)
    # The request the task was published for, put back on its message when it is relayed.
    request_id = UnicodeAttribute(null=True)

    by_status = OutboxByStatus()


class TaskLedgerEntry(DynamoModel):
    """`claimed` while a worker performs a side effect, `done` after; expires after a month."""

    class Meta(TableMeta):
        table_name = table_name("TaskLedger")

    ledger_key = UnicodeAttribute(hash_key=True)
    status = UnicodeAttribute()
    owner = UnicodeAttribute()
    claimed_until = UTCDateTimeAttribute()
    completed_at = UTCDateTimeAttribute(null=True)
    expires_at = TTLAttribute()
