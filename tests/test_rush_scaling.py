"""The web service's scale-out ahead of each registration opening (semesters/rush_scaling.py): the
semesters come from the test DynamoDB Local, the scheduled actions go to moto's Application Auto
Scaling, on the scalable target of an ECS service as infra/compute.yaml registers it."""

from __future__ import annotations

import io
import random
from datetime import datetime, timedelta

import boto3
import pytest
from celery import Celery
from django.core.management import CommandError, call_command
from django.utils import timezone
from moto import mock_aws

from courseproject.celery import schedule_periodic_tasks
from semesters.models import Semester
from semesters.rush_scaling import ACTION_PREFIX, SCALABLE_DIMENSION, schedule_rush_scaling
from semesters.tasks import schedule_rush_scaling_task
from tests.conftest import open_semester

REGION = "us-east-1"
RESOURCE_ID = "service/prod-course-registration/web"


@pytest.fixture
def autoscaling(settings):
    """moto's ECS web service and its scalable target (2 to 20 tasks); the rush settings at their
    defaults but for the target's resource id."""
    settings.AWS_REGION = REGION
    settings.RUSH_SCALING_RESOURCE_ID = RESOURCE_ID
    settings.RUSH_SCALING_MIN_CAPACITY = 10
    settings.RUSH_SCALING_RESTORE_MIN_CAPACITY = 2
    settings.RUSH_SCALING_LEAD_MINUTES = 30
    settings.RUSH_SCALING_WINDOW_MINUTES = 120
    with mock_aws():
        ecs = boto3.client("ecs", region_name=REGION)
        ecs.create_cluster(clusterName="prod-course-registration")
        ecs.register_task_definition(
            family="web",
            containerDefinitions=[
                {"name": "app", "image": "course-registration:1", "command": ["web"], "memory": 2048}
            ],
        )
        ecs.create_service(cluster="prod-course-registration", serviceName="web", taskDefinition="web", desiredCount=2)
        client = boto3.client("application-autoscaling", region_name=REGION)
        client.register_scalable_target(
            ServiceNamespace="ecs",
            ResourceId=RESOURCE_ID,
            ScalableDimension=SCALABLE_DIMENSION,
            MinCapacity=2,
            MaxCapacity=20,
        )
        yield client


def scheduled(client) -> dict[str, tuple[str, int]]:
    """Our scheduled actions on the web target: name -> (schedule, MinCapacity)."""
    actions = client.describe_scheduled_actions(ServiceNamespace="ecs", ResourceId=RESOURCE_ID)["ScheduledActions"]
    return {
        action["ScheduledActionName"]: (action["Schedule"], action["ScalableTargetAction"]["MinCapacity"])
        for action in actions
        if action["ScheduledActionName"].startswith(ACTION_PREFIX)
    }


def at(moment: datetime) -> str:
    return f"at({moment:%Y-%m-%dT%H:%M:%S})"


def semester_opening(opens_at: datetime) -> int:
    return open_semester(
        registration_opens_at=opens_at,
        add_deadline=opens_at + timedelta(days=14),
        drop_deadline=opens_at + timedelta(days=30),
    )


@pytest.fixture
def now() -> datetime:
    """A moment years ahead, its own: the semesters table is shared, and another test's opening
    near this one's would rightly change its schedule (see the overlap test)."""
    return timezone.now() + timedelta(days=random.randint(1_000, 30_000), minutes=random.randint(0, 1_440))


def opening_in(now: datetime, delta: timedelta) -> datetime:
    return (now + delta).replace(second=0, microsecond=0)


def test_the_web_minimum_rises_ahead_of_each_opening_and_falls_after(autoscaling, now):
    first_opens, second_opens = opening_in(now, timedelta(days=2)), opening_in(now, timedelta(days=5))
    first, second = semester_opening(first_opens), semester_opening(second_opens)

    schedule_rush_scaling(now=now)

    actions = scheduled(autoscaling)
    assert actions[f"{ACTION_PREFIX}{first}-scale-out"] == (at(first_opens - timedelta(minutes=30)), 10)
    assert actions[f"{ACTION_PREFIX}{first}-restore"] == (at(first_opens + timedelta(minutes=120)), 2)
    assert actions[f"{ACTION_PREFIX}{second}-scale-out"] == (at(second_opens - timedelta(minutes=30)), 10)
    assert actions[f"{ACTION_PREFIX}{second}-restore"] == (at(second_opens + timedelta(minutes=120)), 2)


def test_a_moved_opening_moves_its_actions_and_a_gone_semesters_actions_are_deleted(autoscaling, now):
    opens = opening_in(now, timedelta(days=3))
    semester_id = semester_opening(opens)
    autoscaling.put_scheduled_action(
        ServiceNamespace="ecs",
        ScheduledActionName=f"{ACTION_PREFIX}19991-scale-out",  # a semester whose rush is over
        ResourceId=RESOURCE_ID,
        ScalableDimension=SCALABLE_DIMENSION,
        Schedule=at(now - timedelta(days=30)),
        ScalableTargetAction={"MinCapacity": 10},
    )
    schedule_rush_scaling(now=now)

    semester = Semester.get(semester_id)
    moved = opens + timedelta(days=1)
    semester.update(actions=[Semester.registration_opens_at.set(moved)])
    result = schedule_rush_scaling(now=now)

    actions = scheduled(autoscaling)
    assert actions[f"{ACTION_PREFIX}{semester_id}-scale-out"] == (at(moved - timedelta(minutes=30)), 10)
    assert actions[f"{ACTION_PREFIX}{semester_id}-restore"] == (at(moved + timedelta(minutes=120)), 2)
    assert f"{ACTION_PREFIX}19991-scale-out" not in actions
    assert f"{ACTION_PREFIX}19991-scale-out" not in result.deleted  # deleted by the first run already


def test_an_opening_closer_than_the_lead_time_scales_out_at_once(autoscaling, now):
    opens = opening_in(now, timedelta(minutes=10))
    semester_id = semester_opening(opens)

    schedule_rush_scaling(now=now)

    schedule, minimum = scheduled(autoscaling)[f"{ACTION_PREFIX}{semester_id}-scale-out"]
    assert (schedule, minimum) == (at(now + timedelta(minutes=1)), 10)


def test_a_rush_on_keeps_its_restore_and_one_over_loses_both(autoscaling, now):
    on = semester_opening(opening_in(now, -timedelta(minutes=60)))  # opened an hour ago: restore in an hour
    over = semester_opening(opening_in(now, -timedelta(hours=3)))

    schedule_rush_scaling(now=now)

    actions = scheduled(autoscaling)
    assert f"{ACTION_PREFIX}{on}-restore" in actions
    assert f"{ACTION_PREFIX}{over}-scale-out" not in actions
    assert f"{ACTION_PREFIX}{over}-restore" not in actions


def test_a_restore_inside_the_next_rush_is_left_out(autoscaling, now):
    first_opens = opening_in(now, timedelta(days=4))
    first = semester_opening(first_opens)
    second = semester_opening(first_opens + timedelta(minutes=60))  # its window starts before first's ends

    schedule_rush_scaling(now=now)

    actions = scheduled(autoscaling)
    assert f"{ACTION_PREFIX}{first}-scale-out" in actions
    assert f"{ACTION_PREFIX}{first}-restore" not in actions  # it would end the second rush early
    assert actions[f"{ACTION_PREFIX}{second}-restore"][1] == 2


def test_the_command_lists_what_it_scheduled_and_the_beat_task_does_the_same(autoscaling, now):
    semester_id = semester_opening(opening_in(now, timedelta(days=6)))
    output = io.StringIO()
    call_command("schedule_rush_scaling", stdout=output)
    assert f"{ACTION_PREFIX}{semester_id}-scale-out: MinCapacity 10" in output.getvalue()
    assert schedule_rush_scaling_task.run() >= 2


def test_a_rush_minimum_above_the_services_maximum_is_refused(autoscaling, settings):
    settings.RUSH_SCALING_MIN_CAPACITY = 21
    with pytest.raises(CommandError, match="above the web service's maximum"):
        call_command("schedule_rush_scaling", stdout=io.StringIO())
    assert scheduled(autoscaling) == {}


def test_without_a_scalable_target_nothing_is_scheduled(autoscaling, settings):
    settings.RUSH_SCALING_RESOURCE_ID = ""
    with pytest.raises(CommandError, match="RUSH_SCALING_RESOURCE_ID"):
        call_command("schedule_rush_scaling", stdout=io.StringIO())
    settings.RUSH_SCALING_RESOURCE_ID = "service/prod-course-registration/no-such-service"
    with pytest.raises(CommandError, match="no scalable target"):
        call_command("schedule_rush_scaling", stdout=io.StringIO())


@pytest.mark.parametrize("resource_id", ["", RESOURCE_ID])
def test_beat_schedules_the_rebuild_only_for_a_web_service_to_scale(settings, resource_id):
    settings.RUSH_SCALING_RESOURCE_ID = resource_id
    settings.RUSH_SCALING_INTERVAL_SECONDS = 600
    beat = Celery("beat-schedule-probe", set_as_current=False)
    schedule_periodic_tasks(beat)
    rebuilds = [
        entry for entry in beat.conf.beat_schedule.values() if entry["task"] == "semesters.schedule_rush_scaling"
    ]
    assert [entry["schedule"] for entry in rebuilds] == ([600] if resource_id else [])
