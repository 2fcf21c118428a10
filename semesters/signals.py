"""The semester_changed signal and the receiver that keeps the cache in step with semester writes.

semester_changed(sender=Semester, semester_id, revision, action, actor_id, before, after)
    Sent by semesters.services after a write succeeded; action is "created" or "updated"; before and
    after are semester representations (before is None for a new one).
"""

from __future__ import annotations

from typing import Any

from django.dispatch import Signal

from courseproject.api.rendering import dumps
from courseproject.caching import keys
from courseproject.caching.entities import put_entity
from courseproject.caching.pages import bump_generations

semester_changed = Signal()


def refresh_semester_caches(*, semester_id: int, revision: int, after: dict[str, Any], **_: Any) -> None:
    put_entity(keys.semester(semester_id), revision=revision, payload=dumps(after))
    bump_generations(keys.semester_list_generation())
