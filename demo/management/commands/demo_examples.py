"""manage.py demo_examples: the ids of the worked examples in docs/api.md, as shell variables.

    eval "$(.venv/bin/python manage.py demo_examples)"

The demo follows the calendar, so its semesters (and the courses in them) change ids when a new
term starts; this prints today's, computed like seed_demo's data (give it the same options) without
reading DynamoDB.
"""

from __future__ import annotations

import shlex
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from demo.options import add_dataset_arguments, dataset_from_options


class Command(BaseCommand):
    help = "Print the ids the examples in docs/api.md use, as shell variable assignments."

    def add_arguments(self, parser: CommandParser) -> None:
        add_dataset_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        showcase = dataset_from_options(options).showcase
        if showcase is None:
            raise CommandError(
                "This dataset has no worked examples: they need 3 semesters or more (not --all-open), "
                "11 departments, 5 students and two levels of courses (the defaults have them)."
            )
        for name, value, comment in showcase.shell_variables():
            self.stdout.write(f"{name}={shlex.quote(value)}  # {comment}")
