"""The one DynamoDB connection configuration every model and service shares.

PynamoDB gives each model class its own botocore client (and so its own HTTP pool) with retry
settings fixed at "standard". We want one client per process: one pool of keep-alive connections,
adaptive retries that back off when DynamoDB throttles, short timeouts, a lean HTTP transport
(transport.py) and item calls made without botocore's request pipeline (lean_calls.py).
`DynamoModel` (models.py) swaps the shared client into every model's connection;
`shared_connection()` gives transactions and raw calls the same.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

import botocore.client
import botocore.session
from django.conf import settings
from pynamodb.connection import Connection

from courseproject.dynamo import lean_calls
from courseproject.dynamo.responses import DynamoParserFactory
from courseproject.dynamo.transport import KeepAliveSession

_client_lock = threading.Lock()
_client: Any = None
_client_pid: int | None = None
_connection: Connection | None = None
# (event name, handler) pairs registered on every client this process creates; see observe_client_events.
_client_event_handlers: list[tuple[str, Callable[..., Any]]] = []


def _create_client() -> Any:
    session = botocore.session.get_session()
    session.register_component("response_parser_factory", DynamoParserFactory())
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
    if settings.DYNAMODB_LEAN_HTTP:
        endpoint = client._endpoint
        endpoint.http_session = KeepAliveSession(
            fallback=endpoint.http_session,
            connect_timeout=settings.DYNAMODB_CONNECT_TIMEOUT_SECONDS,
            read_timeout=settings.DYNAMODB_READ_TIMEOUT_SECONDS,
            max_pool_connections=settings.DYNAMODB_MAX_POOL_CONNECTIONS,
        )
    if settings.DYNAMODB_LEAN_CALLS:
        lean_calls.install(client)
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
