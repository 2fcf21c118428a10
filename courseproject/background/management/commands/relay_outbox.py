"""manage.py relay_outbox [--dead]: publish the tasks the broker could not take (beat does it every
30 s), or, with --dead, re-queue the dead letters once their cause is fixed."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from courseproject.background.outbox import relay_until_empty


class Command(BaseCommand):
    help = "Publish pending outbox tasks to the broker, oldest first, until none are left or it fails."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dead", action="store_true", help="Re-queue dead letters instead.")

    def handle(self, *args: Any, dead: bool, **options: Any) -> None:
        total = relay_until_empty(dead=dead, budget_seconds=3600)
        kind = "dead letter(s)" if dead else "task(s)"
        self.stdout.write(self.style.SUCCESS(f"Relayed {total} {kind} from the outbox."))
