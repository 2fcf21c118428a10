from django.apps import AppConfig
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connections, reset_queries

NO_DATABASE_ENGINE = "django.db.backends.dummy"


class DynamoConfig(AppConfig):
    """Holds create_indexes and cloudformation_tables, which work from every app's registered models."""

    name = "courseproject.dynamo"
    label = "dynamo"
    verbose_name = "DynamoDB"

    def ready(self) -> None:
        # Everything lives in DynamoDB (DATABASES is empty): Django's per-request housekeeping of SQL
        # connections has nothing to do, and cost every request a few percent of its CPU.
        if all(connections.settings[alias]["ENGINE"] == NO_DATABASE_ENGINE for alias in connections.settings):
            request_started.disconnect(reset_queries)
            request_started.disconnect(close_old_connections)
            request_finished.disconnect(close_old_connections)
