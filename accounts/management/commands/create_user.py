"""manage.py create_user --email --name --role: the way to make instructors and admins.

The password is asked for twice at a prompt, or read from standard input (`--password-stdin`, for
scripts and secrets managers). `--password` still works for scripts, with a warning: the password
stays in shell history and is visible in the process list while the command runs.
"""

from __future__ import annotations

import getpass
import sys
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts import services
from accounts.models import Role
from courseproject.api.errors import DomainError


class Command(BaseCommand):
    help = "Create a user of any role (self-registration only ever creates students)."
    # call_command(..., stdin=...) feeds --password-stdin in tests.
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--role", choices=[role.value for role in Role], default=Role.STUDENT.value)
        passwords = parser.add_mutually_exclusive_group()
        passwords.add_argument(
            "--password-stdin", action="store_true", help="Read the password from standard input (its first line)."
        )
        passwords.add_argument(
            "--password", help="For scripts only: it stays in shell history. Without it, the command prompts."
        )

    def handle(
        self,
        *args: Any,
        email: str,
        name: str,
        role: str,
        password: str | None,
        password_stdin: bool,
        **options: Any,
    ) -> None:
        if password is not None:
            self.stderr.write(
                "Warning: --password leaves the password in shell history and the process list; "
                "prefer the prompt or --password-stdin."
            )
        elif password_stdin:
            password = self._first_line(options.get("stdin") or sys.stdin)
        else:
            password = self._prompt()
        try:
            user = services.register_user(email=email, password=password, name=name, role=Role(role))
        except DomainError as error:
            raise CommandError(f"{error.code}: {error.detail}") from None
        self.stdout.write(self.style.SUCCESS(f"Created {user.role} {user.email} with id {user.user_id}"))

    @staticmethod
    def _first_line(stream: TextIO) -> str:
        password = stream.readline().rstrip("\r\n")
        if not password:
            raise CommandError("--password-stdin read no password from standard input.")
        return password

    @staticmethod
    def _prompt() -> str:
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password (again): "):
            raise CommandError("The two passwords differ; nothing was created.")
        return password
