"""A cache write that did not reach Redis is repaired, not forgotten.

The keys it should have deleted or the generations it should have bumped are kept by this process
(connection.py applies them as soon as a read finds Redis answering) and handed to a Celery task,
retried with backoff until Redis answers, in case this process does not live that long. Until
then no other process keeps serving what the missed invalidation should have removed for longer
than it takes Redis to come back.
"""

from __future__ import annotations

from django.conf import settings

from courseproject.background.dispatch import dispatch, new_event_id
from courseproject.caching.connection import gate
from courseproject.caching.tasks import repair_cache


def missed_write(error: Exception, *, deletes: list[str], bumps: list[str]) -> None:
    gate.failed(error)
    gate.keep_for_later(deletes=deletes, bumps=bumps)
    if not settings.CELERY_TASK_ALWAYS_EAGER:  # inline, the repair would only fail again now
        dispatch(repair_cache, event_id=new_event_id(), delete_keys=sorted(deletes), bump_keys=sorted(bumps))
