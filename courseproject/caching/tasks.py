"""The repair of cache writes a process could not make (repair.py dispatches it)."""

from __future__ import annotations

from courseproject.background.reliable import background_task
from courseproject.caching.connection import gate, invalidate


@background_task("courseproject.repair_cache")
def repair_cache(*, event_id: str, delete_keys: list[str], bump_keys: list[str]) -> None:
    """Apply cache writes a process could not make (Redis errors retry with backoff until it answers)."""
    client = gate.writer()
    if client is not None:
        invalidate(client, delete_keys=delete_keys, bump_keys=bump_keys)
