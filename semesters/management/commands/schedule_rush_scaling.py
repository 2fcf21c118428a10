"""manage.py schedule_rush_scaling: raise the web service's minimum task count ahead of every
registration opening ahead, and restore it after (semesters/rush_scaling.py). Beat runs the same
every RUSH_SCALING_INTERVAL_SECONDS; run it by hand after moving an opening closer than that."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from semesters.rush_scaling import schedule_rush_scaling


class Command(BaseCommand):
    help = "Schedule the web service's scale-out ahead of each registration opening, and its restore after."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            schedule = schedule_rush_scaling(now=timezone.now())
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from None
        for action in schedule.put:
            self.stdout.write(f"{action.name}: MinCapacity {action.min_capacity} at {action.at:%Y-%m-%d %H:%M} UTC")
        for name in schedule.deleted:
            self.stdout.write(f"{name}: deleted")
        self.stdout.write(f"{len(schedule.put)} scheduled actions put, {len(schedule.deleted)} deleted.")
