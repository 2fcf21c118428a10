"""The base of every table: PynamoDB models that name their table and talk through the shared client.

Every model that names a table registers itself here; `create_indexes`, `cloudformation_tables` and
the health check work from that registry, so the apps never have to tell the core about their tables.
Django imports each app's models.py at start-up, which fills the registry in every process.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from pynamodb.connection import TableConnection
from pynamodb.constants import PAY_PER_REQUEST_BILLING_MODE
from pynamodb.exceptions import PutError
from pynamodb.models import Model

from courseproject.dynamo.client import dynamodb_client


def table_name(name: str) -> str:
    return f"{settings.DYNAMODB_TABLE_PREFIX}{name}"


class TableMeta:
    """Defaults for every model's `Meta`; a model only names its table. Pool, timeouts and retries
    are those of the shared client, not PynamoDB's per-model settings."""

    region = settings.AWS_REGION
    host = settings.DYNAMODB_ENDPOINT_URL
    billing_mode = PAY_PER_REQUEST_BILLING_MODE


class DynamoModel(Model):
    """Base for every table: registers itself and always talks through the shared client."""

    registry: ClassVar[list[type[DynamoModel]]] = []

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if getattr(getattr(cls, "Meta", None), "table_name", None):
            DynamoModel.registry.append(cls)

    @classmethod
    def _get_connection(cls) -> TableConnection:
        table_connection = super()._get_connection()
        client = dynamodb_client()
        if table_connection.connection._client is not client:
            table_connection.connection._client = client
        return table_connection

    def save_new(self) -> None:
        """Put this item, whose key was just made (a uuid), only where no item has that key. botocore
        sends a put again when its answer was lost (a read timeout, a connection closed under it), and
        if the first attempt had landed, the second finds the key taken by this very item: a success,
        not a conflict. Anything else in its place is one, raised as PynamoDB's PutError."""
        try:
            self.save(condition=self._hash_key_attribute().does_not_exist())
        except PutError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
            range_key = getattr(self, self._range_keyname) if self._range_keyname else None
            try:
                stored = type(self).get(getattr(self, self._hash_keyname), range_key, consistent_read=True)
            except self.DoesNotExist:
                raise error from None
            if stored.serialize() != self.serialize():
                raise


def registered_models() -> list[type[DynamoModel]]:
    return list(DynamoModel.registry)
