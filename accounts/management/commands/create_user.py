"""manage.py create_user --email --password --name --role: the way to make instructors and admins."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts import services
from accounts.models import Role
from courseproject.api.errors import DomainError


class Command(BaseCommand):
    help = "Create a user of any role (self-registration only ever creates students)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--password", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--role", choices=[role.value for role in Role], default=Role.STUDENT.value)

    def handle(self, *args: Any, email: str, password: str, name: str, role: str, **options: Any) -> None:
        try:
            user = services.register_user(email=email, password=password, name=name, role=Role(role))
        except DomainError as error:
            raise CommandError(f"{error.code}: {error.detail}") from None
        self.stdout.write(self.style.SUCCESS(f"Created {user.role} {user.email} with id {user.user_id}"))
