"""The one DynamoDB connection configuration every model and service shares.

PynamoDB gives each model class its own botocore client (and so its own HTTP pool) with retry
settings fixed at "standard". We want one client per process: one pool of keep-alive connections,
adaptive retries that back off when DynamoDB throttles, and short timeouts. `DynamoModel` swaps the
shared client into every model's connection; `transaction_connection()` gives transactions the same.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, TypeVar

import botocore.client
import botocore.session
from django.conf import settings
from pynamodb.connection import Connection, TableConnection
from pynamodb.constants import PAY_PER_REQUEST_BILLING_MODE
from pynamodb.exceptions import GetError, TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from courseproject.errors import ConflictError, ServiceUnavailable

logger = logging.getLogger(__name__)

# DynamoDB's limit on keys per BatchGetItem call.
BATCH_GET_LIMIT = 100
BATCH_GET_MAX_ATTEMPTS = 8

_client_lock = threading.Lock()
_client: Any = None
_client_pid: int | None = None
_connection: Connection | None = None
# (event name, handler) pairs registered on every client this process creates; see observe_client_events.
_client_event_handlers: list[tuple[str, Callable[..., Any]]] = []

ModelT = TypeVar("ModelT", bound="DynamoModel")


def table_name(name: str) -> str:
    return f"{settings.DYNAMODB_TABLE_PREFIX}{name}"


def _create_client() -> Any:
    session = botocore.session.get_session()
    if settings.AWS_ACCESS_KEY_ID and settings.AWS_SECRET_ACCESS_KEY:
        session.set_credentials(settings.AWS_ACCESS_KEY_ID, settings.AWS_SECRET_ACCESS_KEY)
    config = botocore.client.Config(
        connect_timeout=settings.DYNAMODB_CONNECT_TIMEOUT_SECONDS,
        read_timeout=settings.DYNAMODB_READ_TIMEOUT_SECONDS,
        max_pool_connections=settings.DYNAMODB_MAX_POOL_CONNECTIONS,
        retries={"mode": "adaptive", "total_max_attempts": settings.DYNAMODB_MAX_ATTEMPTS},
        # PynamoDB builds well-formed requests; validating them again costs time on every call.
        parameter_validation=False,
        tcp_keepalive=True,
    )
    client = session.create_client(
        "dynamodb",
        region_name=settings.AWS_REGION,
        endpoint_url=settings.DYNAMODB_ENDPOINT_URL,
        config=config,
    )
    for event_name, handler in _client_event_handlers:
        client.meta.events.register(event_name, handler)
    return client


def observe_client_events(event_name: str, handler: Callable[..., Any]) -> Callable[[], None]:
    """Register a botocore event handler on the shared client, now and after any re-creation.

    For instrumentation (call counting, the test suite's Scan guard). Returns a function that
    unregisters it.
    """
    _client_event_handlers.append((event_name, handler))
    if _client is not None:
        _client.meta.events.register(event_name, handler)

    def unregister() -> None:
        _client_event_handlers.remove((event_name, handler))
        if _client is not None:
            _client.meta.events.unregister(event_name, handler)

    return unregister


def dynamodb_client() -> Any:
    """The process-wide botocore DynamoDB client, created on first use.

    Re-created after a fork (Celery prefork, gunicorn --preload) so that no two processes share
    the sockets of one pool.
    """
    global _client, _client_pid, _connection
    pid = os.getpid()
    if _client is None or _client_pid != pid or not _has_credentials(_client):
        with _client_lock:
            if _client is None or _client_pid != pid or not _has_credentials(_client):
                _client = _create_client()
                _client_pid = pid
                _connection = None
    return _client


def _has_credentials(client: Any) -> bool:
    # botocore caches an empty credential lookup (instance metadata briefly unreachable) for the
    # client's life; such a client must be replaced, or PynamoDB would build a client per call.
    signer = getattr(client, "_request_signer", None)
    return signer is None or signer._credentials is not None


def shared_connection() -> Connection:
    """A PynamoDB `Connection` on the shared client, for transactions and raw calls."""
    global _connection
    client = dynamodb_client()
    connection = _connection
    if connection is None or connection._client is not client:
        connection = Connection(region=settings.AWS_REGION, host=settings.DYNAMODB_ENDPOINT_URL)
        connection._client = client
        _connection = connection
    return connection


def reset_dynamodb_client() -> None:
    """Forget the shared client (tests that point the process at another endpoint)."""
    global _client, _client_pid, _connection
    with _client_lock:
        _client = None
        _client_pid = None
        _connection = None


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


def registered_models() -> list[type[DynamoModel]]:
    return list(DynamoModel.registry)


def batch_get(
    model_class: type[ModelT],
    hash_keys: Iterable[str],
    *,
    consistent_read: bool = False,
    attributes: list[str] | None = None,
) -> dict[str, ModelT]:
    """Fetch many items by hash key with BatchGetItem, keyed by hash key; missing keys are absent.

    100 keys a call; UnprocessedKeys (throttling, 16 MB responses) are retried with exponential
    backoff and full jitter, so a partial answer is never mistaken for missing items.
    """
    unique_keys = list(dict.fromkeys(hash_keys))
    if not unique_keys:
        return {}
    connection = model_class._get_connection().connection
    table = model_class.Meta.table_name
    key_name = model_class._hash_key_attribute().attr_name
    request_options: dict[str, Any] = {"ConsistentRead": consistent_read}
    if attributes:
        # Placeholders for every name: several of ours (capacity, status) are DynamoDB reserved words.
        names = {f"#a{position}": name for position, name in enumerate(dict.fromkeys([key_name, *attributes]))}
        request_options["ProjectionExpression"] = ", ".join(names)
        request_options["ExpressionAttributeNames"] = names
    found: dict[str, ModelT] = {}
    for start in range(0, len(unique_keys), BATCH_GET_LIMIT):
        request_keys = [{key_name: {"S": key}} for key in unique_keys[start : start + BATCH_GET_LIMIT]]
        attempt = 0
        while request_keys:
            response = connection.dispatch(
                "BatchGetItem", {"RequestItems": {table: {"Keys": request_keys, **request_options}}}
            )
            for raw_item in response.get("Responses", {}).get(table, []):
                found[raw_item[key_name]["S"]] = model_class.from_raw_data(raw_item)
            request_keys = response.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
            if request_keys:
                attempt += 1
                if attempt >= BATCH_GET_MAX_ATTEMPTS:
                    raise GetError(f"BatchGetItem on {table} left {len(request_keys)} keys unprocessed")
                time.sleep(random.uniform(0, min(1.0, 0.025 * 2**attempt)))
    return found


# Cancellation reasons that mean "try again", not "your condition failed".
_RETRYABLE_CANCELLATIONS = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}
TRANSACTION_ATTEMPTS = 5


def commit_transaction(build: Callable[[TransactWrite], None]) -> None:
    """Commit a TransactWriteItems built by `build`, retrying cancellations that are not our conditions.

    On AWS, concurrent transactions on one hot item (a popular course's seat counter, one email) are
    cancelled with TransactionConflict; a short jittered retry lets them through. Each attempt has
    its own ClientRequestToken, so botocore's resend of an attempt whose answer was lost is a no-op
    at DynamoDB instead of a second write. A condition failure raises at once for the caller to read.
    """
    for attempt in range(1, TRANSACTION_ATTEMPTS + 1):
        try:
            with TransactWrite(connection=shared_connection(), client_request_token=uuid.uuid4().hex) as transaction:
                build(transaction)
            return
        except TransactWriteError as error:
            codes = {reason.code for reason in error.cancellation_reasons if reason is not None}
            if not codes & _RETRYABLE_CANCELLATIONS or "ConditionalCheckFailed" in codes:
                raise
            if attempt == TRANSACTION_ATTEMPTS:
                if "TransactionConflict" in codes:
                    raise ConflictError(
                        "Too many concurrent changes to the same item; please retry.", code="transaction_conflict"
                    ) from None
                raise ServiceUnavailable(code="dynamodb_throttled") from None
            time.sleep(random.uniform(0, 0.01 * 2**attempt))
