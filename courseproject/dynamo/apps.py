from django.apps import AppConfig


class DynamoConfig(AppConfig):
    """Holds create_indexes and cloudformation_tables, which work from every app's registered models."""

    name = "courseproject.dynamo"
    label = "dynamo"
    verbose_name = "DynamoDB"
