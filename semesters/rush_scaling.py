"""Scheduled scale-out of the web service ahead of each semester's registration opening.

Target tracking adds web tasks only after the load has arrived, and a Fargate task takes minutes to
start, while a registration rush peaks within seconds of the opening. So for every semester whose
registration opens ahead, two Application Auto Scaling scheduled actions on the web service's
scalable target: RUSH_SCALING_LEAD_MINUTES before the opening its MinCapacity becomes
RUSH_SCALING_MIN_CAPACITY, and RUSH_SCALING_WINDOW_MINUTES after it RUSH_SCALING_RESTORE_MIN_CAPACITY.
Target tracking still scales above the raised minimum.

Semesters are data an admin edits, so the schedule is rebuilt from them (`manage.py
schedule_rush_scaling`, and beat every RUSH_SCALING_INTERVAL_SECONDS): an action's name carries its
semester, putting it again moves it, and the actions of semesters no longer ahead are deleted.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import boto3
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from semesters.models import Semester
from semesters.selectors import semesters_opening_after

logger = logging.getLogger(__name__)

ACTION_PREFIX = "registration-rush-"
SERVICE_NAMESPACE = "ecs"
SCALABLE_DIMENSION = "ecs:service:DesiredCount"
# An action whose moment has passed (an opening set less than the lead time ahead) runs this soon.
AS_SOON_AS_POSSIBLE = timedelta(minutes=1)


@dataclass(frozen=True)
class RushAction:
    name: str
    at: datetime
    min_capacity: int


@dataclass(frozen=True)
class RushSchedule:
    put: list[RushAction]
    deleted: list[str]


def rush_actions(*, semesters: Iterable[Semester], now: datetime) -> list[RushAction]:
    """The scale-out and restore actions for every semester whose rush window has not ended. A
    restore that falls inside another semester's window is left out: it would end that rush early."""
    lead = timedelta(minutes=settings.RUSH_SCALING_LEAD_MINUTES)
    window = timedelta(minutes=settings.RUSH_SCALING_WINDOW_MINUTES)
    windows = {
        int(semester.semester_id): (semester.registration_opens_at - lead, semester.registration_opens_at + window)
        for semester in semesters
        if semester.registration_opens_at + window > now
    }
    actions: list[RushAction] = []
    for semester_id, (scale_out_at, restore_at) in sorted(windows.items()):
        actions.append(
            RushAction(
                name=f"{ACTION_PREFIX}{semester_id}-scale-out",
                at=max(scale_out_at, now + AS_SOON_AS_POSSIBLE),
                min_capacity=settings.RUSH_SCALING_MIN_CAPACITY,
            )
        )
        inside_another_rush = any(
            start <= restore_at < end for other, (start, end) in windows.items() if other != semester_id
        )
        if not inside_another_rush:
            actions.append(
                RushAction(
                    name=f"{ACTION_PREFIX}{semester_id}-restore",
                    at=restore_at,
                    min_capacity=settings.RUSH_SCALING_RESTORE_MIN_CAPACITY,
                )
            )
    return actions


def _autoscaling_client() -> Any:
    return boto3.client("application-autoscaling", region_name=settings.AWS_REGION)


def _target(client: Any, resource_id: str) -> dict[str, Any]:
    targets = client.describe_scalable_targets(
        ServiceNamespace=SERVICE_NAMESPACE, ResourceIds=[resource_id], ScalableDimension=SCALABLE_DIMENSION
    )["ScalableTargets"]
    if not targets:
        raise ImproperlyConfigured(f"RUSH_SCALING_RESOURCE_ID {resource_id!r} is no scalable target of ECS")
    return targets[0]


def _existing_action_names(client: Any, resource_id: str) -> set[str]:
    names: set[str] = set()
    for page in client.get_paginator("describe_scheduled_actions").paginate(
        ServiceNamespace=SERVICE_NAMESPACE, ResourceId=resource_id, ScalableDimension=SCALABLE_DIMENSION
    ):
        names.update(action["ScheduledActionName"] for action in page["ScheduledActions"])
    return {name for name in names if name.startswith(ACTION_PREFIX)}


def schedule_rush_scaling(*, now: datetime) -> RushSchedule:
    """Put the scheduled actions for every semester whose rush is ahead (or on), delete the rest of
    ours. Raises ImproperlyConfigured when the target is missing or cannot reach the rush capacity."""
    resource_id = settings.RUSH_SCALING_RESOURCE_ID
    if not resource_id:
        raise ImproperlyConfigured("RUSH_SCALING_RESOURCE_ID is not set: no web service to scale")
    client = _autoscaling_client()
    target = _target(client, resource_id)
    if target["MaxCapacity"] < settings.RUSH_SCALING_MIN_CAPACITY:
        raise ImproperlyConfigured(
            f"RUSH_SCALING_MIN_CAPACITY ({settings.RUSH_SCALING_MIN_CAPACITY}) is above the web service's "
            f"maximum ({target['MaxCapacity']}): raise the compute stack's WebMaximumCount"
        )
    window = timedelta(minutes=settings.RUSH_SCALING_WINDOW_MINUTES)
    actions = rush_actions(semesters=semesters_opening_after(after=now - window), now=now)
    stale = sorted(_existing_action_names(client, resource_id) - {action.name for action in actions})
    for name in stale:
        client.delete_scheduled_action(
            ServiceNamespace=SERVICE_NAMESPACE,
            ScheduledActionName=name,
            ResourceId=resource_id,
            ScalableDimension=SCALABLE_DIMENSION,
        )
    for action in actions:
        client.put_scheduled_action(
            ServiceNamespace=SERVICE_NAMESPACE,
            ScheduledActionName=action.name,
            ResourceId=resource_id,
            ScalableDimension=SCALABLE_DIMENSION,
            Schedule=f"at({action.at:%Y-%m-%dT%H:%M:%S})",
            Timezone="UTC",
            ScalableTargetAction={"MinCapacity": action.min_capacity},
        )
    logger.info("Rush scaling: %d scheduled actions put, %d deleted", len(actions), len(stale))
    return RushSchedule(put=actions, deleted=stale)
