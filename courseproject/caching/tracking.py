"""The connection on which Redis tells a web process about changes to the keys of its local copies
(local_copies.py): opening it, switching tracking on, and proving now and then that it still delivers.

A broken connection is noticed when it is read, but messages could also stop with the connection
open (tracking switched off on it, a proxy that drops pushes). So each process now and then writes
a canary key of its own through the ordinary cache client, and waits for Redis's message about it
on the tracking connection. Redis writes a connection's messages in the order of the changes, so a
canary heard that was written at time T proves that every change made before T has been told: a
copy kept before T was still current at T. A copy is served only while that proof, or the copy
itself, is at most CACHE_LOCAL_COPY_PROOF_SECONDS old; a busy process sends a canary every half of
that, and one not heard within that long closes the connection (it is reopened and tracked anew).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from redis import ConnectionPool
from redis.connection import AbstractConnection
from redis.exceptions import RedisError, ResponseError
from redis.maint_notifications import MaintNotificationsConfig

from courseproject.caching import keys as cache_keys
from courseproject.caching.connection import gate

# The canary key outlives any wait for its message; it is rewritten every few seconds while in use.
CANARY_TTL_SECONDS = 300


class TrackingRefused(RedisError):
    """Redis would not broadcast changes to this connection: no copies, every read goes to Redis."""


def tracking_connection(*, on_connect: Callable[[AbstractConnection], None]) -> AbstractConnection:
    """A connection of its own (not in any pool's rotation), RESP3 for the pushes; not yet open."""
    options = settings.CACHES["default"].get("OPTIONS", {})
    pool = ConnectionPool.from_url(
        settings.REDIS_URL,
        protocol=3,  # invalidation messages arrive as pushes on this connection
        socket_connect_timeout=options.get("SOCKET_CONNECT_TIMEOUT"),
        socket_timeout=options.get("SOCKET_TIMEOUT"),
        maint_notifications_config=MaintNotificationsConfig(enabled=False),
    )
    connection = pool.make_connection()
    connection.register_connect_callback(on_connect)
    return connection


def switch_tracking_on(
    connection: AbstractConnection, *, prefixes: tuple[bytes, ...], on_message: Callable[[list[Any]], None]
) -> None:
    """Ask Redis to broadcast every change of a key with one of `prefixes`, as pushes to `on_message`."""
    # redis-py leaves the socket open when a connect callback fails: close it, so that no copy is
    # ever kept while changes are not being broadcast to it.
    arguments = [part for prefix in prefixes for part in (b"PREFIX", prefix)]
    try:
        connection._parser.set_invalidation_push_handler(on_message)
        connection.send_command("CLIENT", "TRACKING", "ON", "BCAST", *arguments)
        reply = connection.read_response()
    except ResponseError as error:
        connection.disconnect()
        raise TrackingRefused(str(error)) from error
    except BaseException:
        connection.disconnect()
        raise
    if reply not in (b"OK", "OK"):
        connection.disconnect()
        raise TrackingRefused(f"CLIENT TRACKING ON answered {reply!r}")


class CanaryUnheard(RedisError):
    """A canary's message did not come back: the tracking connection is not to be trusted."""


class Canary:
    """One process's canary; its owner calls every method but `send` under its own lock."""

    def __init__(self) -> None:
        self.key = b""
        self.proven_at = 0.0  # time.monotonic(): every change made before it has been told
        self._sent_at: float | None = None  # when the canary in flight was written

    def restart(self, now: float) -> None:
        """A tracking connection switched on just now: changes from now on will be told on it."""
        self.key = cache_keys.local_copy_canary(f"{os.getpid()}-{uuid.uuid4().hex[:12]}").encode()
        self.proven_at = now
        self._sent_at = None

    def heard(self, changed: set[bytes]) -> None:
        if self._sent_at is not None and self.key in changed:
            self.proven_at, self._sent_at = self._sent_at, None

    def check(self, now: float) -> None:
        """Raise CanaryUnheard if the canary in flight is overdue."""
        if self._sent_at is not None and now - self._sent_at > settings.CACHE_LOCAL_COPY_PROOF_SECONDS:
            waited = settings.CACHE_LOCAL_COPY_PROOF_SECONDS
            raise CanaryUnheard(f"no message about {self.key.decode()} within {waited} s")

    def proves(self, kept_at: float, now: float) -> bool:
        """Whether a copy kept at `kept_at` is proven current recently enough to be served."""
        return now - max(kept_at, self.proven_at) <= settings.CACHE_LOCAL_COPY_PROOF_SECONDS

    def due(self, now: float) -> bool:
        """Whether to send a canary now (half the proof's age gone, none in flight); marks it sent."""
        half = settings.CACHE_LOCAL_COPY_PROOF_SECONDS / 2
        if not self.key or now - self.proven_at < half or self._sent_at is not None:
            return False
        self._sent_at = now  # before the write: its message may come back before set() returns
        return True

    def send(self) -> None:
        """Write the canary (outside the owner's lock: a round trip). A failed write is never heard,
        so the copies age out, and the connection is reopened once `check` finds it overdue."""
        client = gate.client()
        if client is None:
            return
        try:
            client.set(self.key, b"1", ex=CANARY_TTL_SECONDS)
        except RedisError as error:
            gate.failed(error)
