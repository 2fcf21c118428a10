"""The periodic rebuild of the rush scaling schedule (beat, every RUSH_SCALING_INTERVAL_SECONDS when
RUSH_SCALING_RESOURCE_ID names the web service)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from semesters.rush_scaling import schedule_rush_scaling


@shared_task(name="semesters.schedule_rush_scaling", ignore_result=True)
def schedule_rush_scaling_task() -> int:
    """Put the scheduled scale-out and restore of the web service around each registration opening
    ahead; returns how many actions were put."""
    return len(schedule_rush_scaling(now=timezone.now()).put)
