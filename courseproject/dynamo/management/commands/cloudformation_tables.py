"""manage.py cloudformation_tables: the DynamoDB table resources of infra/stack.yaml, from the models."""

from __future__ import annotations

from typing import Any

import yaml
from django.core.management.base import BaseCommand

from courseproject.dynamo.models import registered_models
from courseproject.dynamo.tables import cloudformation_tables


class Command(BaseCommand):
    help = "Print the AWS::DynamoDB::Table resources the models define, to paste into infra/stack.yaml."

    def handle(self, *args: Any, **options: Any) -> None:
        tables = cloudformation_tables(registered_models())
        self.stdout.write(yaml.safe_dump(tables, sort_keys=False, default_flow_style=False, width=120))
