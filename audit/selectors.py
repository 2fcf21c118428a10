"""Reading the audit log (for the admin): by entity or by actor, newest first, a page at a time."""

from __future__ import annotations

from audit.models import RULES_OVERRIDDEN, AuditRecord, entity_key_for
from courseproject.api.pagination import Page, query_page


def audit_for_entity(*, entity_type: str, entity_id: str, limit: int, cursor: str | None) -> Page[AuditRecord]:
    entity_key = entity_key_for(entity_type, entity_id)
    return query_page(
        AuditRecord.by_entity,
        entity_key,
        scope=f"audit:entity:{entity_key}",
        limit=limit,
        cursor=cursor,
        newest_first=True,
    )


def audit_by_actor(*, actor_id: str, limit: int, cursor: str | None) -> Page[AuditRecord]:
    return query_page(
        AuditRecord.by_actor, actor_id, scope=f"audit:actor:{actor_id}", limit=limit, cursor=cursor, newest_first=True
    )


def overrides_for_student(*, user_id: str, limit: int, cursor: str | None) -> Page[AuditRecord]:
    """The admins' enrollments of this student past the registration rules, newest first."""
    entity_key = entity_key_for("user", user_id)
    return query_page(
        AuditRecord.by_entity,
        entity_key,
        filter_condition=AuditRecord.action == RULES_OVERRIDDEN,
        scope=f"audit:overrides:{entity_key}",
        limit=limit,
        cursor=cursor,
        newest_first=True,
    )
