"""The relay of the outbox, run by beat every OUTBOX_RELAY_INTERVAL_SECONDS."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from courseproject.background.outbox import relay_until_empty


@shared_task(name="courseproject.relay_outbox", ignore_result=True, expires=60)
def relay_outbox() -> int:
    """Drain the outbox (the broker is evidently back, since this task arrived)."""
    return relay_until_empty(budget_seconds=settings.OUTBOX_RELAY_INTERVAL_SECONDS * 0.8)
