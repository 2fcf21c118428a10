"""Create missing DynamoDB tables and add missing GSIs, then wait until all are ACTIVE.

Safe to run again: a second run finds nothing to do. `--dry-run` prints the plan only. `--prune` also
deletes the indexes no model declares, one at a time, each waited for. `--check` changes nothing and
exits 1 when the tables differ from the models (a table or index missing or undeclared, TTL off):
the release step on AWS, where the stack's template owns the tables and indexes.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from courseproject.dynamo.models import registered_models
from courseproject.dynamo.tables import plan_changes, wait_until_active


class Command(BaseCommand):
    help = "Create missing DynamoDB tables and global secondary indexes declared by the models."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Print what would change; change nothing.")
        parser.add_argument("--prune", action="store_true", help="Also delete indexes no model declares.")
        parser.add_argument(
            "--check", action="store_true", help="Change nothing; exit 1 if the tables differ from the models."
        )
        parser.add_argument(
            "--timeout", type=float, default=1800.0, help="Seconds to wait for each table or index to become ACTIVE."
        )

    def handle(self, *args: Any, dry_run: bool, prune: bool, check: bool, timeout: float, **options: Any) -> None:
        started = time.monotonic()
        models = registered_models()
        steps, notes = plan_changes(
            models, wait=lambda table_name: wait_until_active(table_name, timeout_seconds=timeout), prune=prune or check
        )
        for note in notes:
            self.stdout.write(f"  ok    {note}")
        if check:
            for step in steps:
                self.stdout.write(f"  drift {step.description}")
            if steps:
                raise CommandError(f"{len(steps)} difference(s) between the tables and the models; nothing changed.")
            self.stdout.write(self.style.SUCCESS("No drift: every table and index is as the models declare."))
            return
        if not steps:
            if not dry_run:
                # An earlier run may have been interrupted while an index was still backfilling.
                for model in models:
                    wait_until_active(model.Meta.table_name, timeout_seconds=timeout)
            self.stdout.write(self.style.SUCCESS("Nothing to do: every table and index exists and is ACTIVE."))
            return
        for step in steps:
            if dry_run:
                self.stdout.write(f"  plan  {step.description}")
                continue
            self.stdout.write(f"  doing {step.description} ...")
            step.apply()
        if dry_run:
            self.stdout.write(self.style.WARNING(f"Dry run: {len(steps)} change(s) planned, none made."))
        else:
            for model in models:
                wait_until_active(model.Meta.table_name, timeout_seconds=timeout)
            elapsed = time.monotonic() - started
            self.stdout.write(self.style.SUCCESS(f"Done: {len(steps)} change(s) in {elapsed:.1f} s; all ACTIVE."))
