"""Writing audit records in a worker."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from pynamodb.exceptions import PutError

from audit.models import AuditRecord, entity_key_for
from courseproject.background.reliable import background_task


@background_task("audit.record_event")
def record_event(
    *,
    event_id: str,
    entity_type: str,
    entity_id: str,
    action: str,
    actor_id: str,
    occurred_at: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> bool:
    """Write one audit record; False if this event was recorded already (a redelivered task)."""
    occurred = datetime.fromisoformat(occurred_at)
    record = AuditRecord(
        audit_id=event_id,
        entity_key=entity_key_for(entity_type, entity_id),
        entity_type=entity_type,
        entity_id=entity_id,
        action=action,
        actor_id=actor_id,
        occurred_at=occurred,
        before=before,
        after=after,
        expires_at=occurred + timedelta(days=settings.AUDIT_LOG_RETENTION_DAYS),
    )
    try:
        record.save(condition=AuditRecord.audit_id.does_not_exist())
    except PutError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True
