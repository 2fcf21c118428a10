"""manage.py relay_outbox: publish the tasks the broker could not take (beat does it every 30 s)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from courseproject.background import relay_pending


class Command(BaseCommand):
    help = "Publish pending outbox tasks to the broker, oldest first, until none are left or it fails."

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        while relayed := relay_pending():
            total += relayed
        self.stdout.write(self.style.SUCCESS(f"Relayed {total} task(s) from the outbox."))
