"""Process-local copies of the hottest cached reads, kept fresh by Redis's client-side tracking.

A copy is something a cached read served (a list page's response body, a user's token-check state)
together with the Redis keys it was built from. It is filled only from reads made on this process's
one tracked connection (RESP3, `CLIENT TRACKING ON`): Redis then owes that connection an
`invalidate` message for each key it read there, the moment any client changes, deletes or expires
it. (Redis tracks the keys a script declares, not those it builds: page_copies.py reads a page's
entries again by name before keeping it.) Every use of a copy first applies the messages that have
arrived, with a non-blocking read of that socket (no round trip), so a copy is served only if no
change to its keys had reached this host when the request looked. Redis queues the message while it
executes the change and writes it out in the same pass of its event loop as its reply to the
writer, so it is here before the writer's answer can reach a client that then asks this process
(tests/e2e/test_local_copies.py checks this across server processes).

Messages and replies share the connection in order: a change made after a fill's reads is applied
after the copy is stored, and removes it; one applied during the fill stops it from being stored.
One thread uses the connection at a time; another waits up to LOCK_WAIT_SECONDS and then takes the
usual round trip (`reader()` yields None). A broken connection drops every copy, since messages owed
to it may be lost, and is reopened with tracking on. A copy also lives at most
CACHE_LOCAL_COPY_SECONDS, a bound should messages stop without the connection failing.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from redis import ConnectionPool
from redis.connection import AbstractConnection
from redis.exceptions import RedisError, ResponseError, TimeoutError
from redis.maint_notifications import MaintNotificationsConfig

from courseproject.caching import riders
from courseproject.caching.connection import gate

logger = logging.getLogger(__name__)

# Longer than a fill holds the connection, shorter than a request should wait for it.
LOCK_WAIT_SECONDS = 0.005
# A server that refuses CLIENT TRACKING (an ACL, a managed service's rules) is asked again this late.
REFUSED_RETRY_SECONDS = 60


class TrackingRefused(RedisError):
    """Redis would not track this connection's keys: no copies, every read goes to Redis as before."""


@dataclass(frozen=True)
class Copy:
    value: Any
    keys: tuple[bytes, ...]
    expires_at: float  # time.monotonic()


class TrackedReader:
    """The tracked connection, for reads whose keys Redis then tracks (what `gate.run_script` needs)."""

    def __init__(self, owner: LocalCopies, connection: AbstractConnection) -> None:
        self._owner = owner
        self._connection = connection

    def evalsha(self, sha: str, numkeys: int, *keys_and_args: Any) -> Any:
        return self._command("EVALSHA", sha, numkeys, *keys_and_args)

    def get(self, name: str) -> bytes | None:
        return self._command("GET", name)

    def mget(self, names: list[str]) -> list[bytes | None]:
        return self._command("MGET", *names)

    def _command(self, *args: Any) -> Any:
        try:
            self._connection.send_command(*args)
            return self._connection.read_response()
        except RedisError as error:
            if not isinstance(error, ResponseError):  # NOSCRIPT and the like leave the connection sound
                self._owner.drop_connection(error)
            raise


class LocalCopies:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._copies: dict[str, Copy] = {}
        self._by_key: dict[bytes, set[str]] = {}
        self._connection: AbstractConnection | None = None
        self._pid = 0
        self._refused_until = 0.0  # time.monotonic(): a server that refused CLIENT TRACKING
        # Keys this process could not invalidate in Redis, or just repaired (connection.py): their
        # copies go at the next `reader()`, since no message about them will come.
        self._forget_lock = threading.Lock()
        self._to_forget: set[bytes] = set()
        # Keys invalidated since this `reader()` drained (None: everything, a flush); `put` refuses a
        # copy built from any of them, since its message was handled before the copy was stored.
        self._changed_since_drain: set[bytes] | None = set()

    # --- reading -------------------------------------------------------------------------------

    @contextmanager
    def reader(self) -> Iterator[TrackedReader | None]:
        """The tracked connection with every message that has arrived applied, for lookups and fills:
        None if local copies are off, another thread holds it, or it failed (then use the pool)."""
        # Waiting costs no CPU and a holder keeps it for microseconds (a fill, for its round trips).
        if (
            not settings.CACHE_LOCAL_COPIES
            or self._refused_until > time.monotonic()
            or not self._lock.acquire(timeout=LOCK_WAIT_SECONDS)
        ):
            yield None
            return
        try:
            try:
                connection = self._drained_connection()
            except TrackingRefused as error:
                self._refused_until = time.monotonic() + REFUSED_RETRY_SECONDS
                logger.warning("local copies off for %d s: Redis refused tracking (%s)", REFUSED_RETRY_SECONDS, error)
                connection = None
            except RedisError as error:
                self.drop_connection(error)
                try:  # a connection Redis closed (a restart, a failover, CLIENT KILL) is not an outage
                    connection = self._drained_connection()
                except RedisError as second_error:
                    self.drop_connection(second_error)
                    gate.failed(second_error)
                    connection = None
            self._changed_since_drain = set()
            if self._to_forget:
                self._forget_now()
            yield TrackedReader(self, connection) if connection is not None else None
        finally:
            self._lock.release()

    def get(self, name: str) -> Any | None:
        """A live copy; call inside `reader()` (whose drain makes it fresh)."""
        copy = self._copies.get(name)
        if copy is None:
            return None
        if copy.expires_at <= time.monotonic():
            self._remove(name)
            return None
        return copy.value

    def put(self, name: str, value: Any, *, keys: Sequence[str], seconds: float | None = None) -> None:
        """Keep `value`, built from `keys` read on the tracked connection; call inside `reader()`."""
        lifetime = settings.CACHE_LOCAL_COPY_SECONDS
        if seconds is not None:
            lifetime = min(lifetime, seconds)
        encoded = tuple(key.encode() for key in keys)
        changed = self._changed_since_drain
        if lifetime <= 0 or changed is None or not changed.isdisjoint(encoded):
            return
        self._remove(name)
        while len(self._copies) >= settings.CACHE_LOCAL_COPY_LIMIT:
            self._remove(next(iter(self._copies)))  # the oldest kept
        self._copies[name] = Copy(value=value, keys=encoded, expires_at=time.monotonic() + lifetime)
        for key in encoded:
            self._by_key.setdefault(key, set()).add(name)

    # --- the connection ------------------------------------------------------------------------

    def _drained_connection(self) -> AbstractConnection | None:
        if self._pid != os.getpid():  # a forked child must not share its parent's socket
            self._connection, self._pid = None, os.getpid()
            self._clear()
        connection = self._connection
        if connection is None:
            connection = self._connection = self._new_connection()
        if connection._sock is None:
            self._clear()  # what the old socket tracked is not tracked any more
            connection.connect()
        while connection.can_read(timeout=0):
            try:
                connection.read_response(push_request=True, timeout=0, disconnect_on_error=False)
            except TimeoutError:
                return None  # half a message so far: no copy can be proven fresh this time
        return connection

    def _new_connection(self) -> AbstractConnection:
        options = settings.CACHES["default"].get("OPTIONS", {})
        pool = ConnectionPool.from_url(
            settings.REDIS_URL,
            protocol=3,  # push messages on the same connection as replies, in order
            socket_connect_timeout=options.get("SOCKET_CONNECT_TIMEOUT"),
            socket_timeout=options.get("SOCKET_TIMEOUT"),
            maint_notifications_config=MaintNotificationsConfig(enabled=False),
        )
        connection = pool.make_connection()
        connection.register_connect_callback(self._track)
        return connection

    def _track(self, connection: AbstractConnection) -> None:
        # redis-py leaves the socket open when a connect callback fails: close it, so that no copy is
        # ever filled on a connection without tracking.
        try:
            connection._parser.set_invalidation_push_handler(self._invalidated)
            connection.send_command("CLIENT", "TRACKING", "ON")
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

    def _invalidated(self, message: list[Any]) -> None:
        # ["invalidate", [key, ...]], or ["invalidate", None] when a database was flushed.
        keys = message[1]
        if keys is None:
            self._clear()
            self._changed_since_drain = None
            return
        for key in keys:
            encoded = key if isinstance(key, bytes) else key.encode()
            if self._changed_since_drain is not None:
                self._changed_since_drain.add(encoded)
            for name in self._by_key.pop(encoded, ()):
                self._remove(name)

    def forget(self, keys: set[str]) -> None:
        """Drop the copies built from these keys before any is served again (thread-safe, never waits
        for a reader)."""
        with self._forget_lock:
            self._to_forget.update(key.encode() for key in keys)

    def _forget_now(self) -> None:
        with self._forget_lock:
            keys, self._to_forget = self._to_forget, set()
        for key in keys:
            for name in self._by_key.pop(key, ()):
                self._remove(name)

    def drop_connection(self, error: Exception) -> None:
        """Forget every copy: once the connection fails, the messages owed to it may be lost."""
        self._clear()
        if self._connection is not None:
            self._connection.disconnect()
        logger.info("local copies dropped: their tracked Redis connection failed (%s)", error)

    # --- bookkeeping ---------------------------------------------------------------------------

    def _remove(self, name: str) -> None:
        copy = self._copies.pop(name, None)
        if copy is None:
            return
        for key in copy.keys:
            names = self._by_key.get(key)
            if names is not None:
                names.discard(name)
                if not names:
                    del self._by_key[key]

    def _clear(self) -> None:
        self._copies.clear()
        self._by_key.clear()
        self._changed_since_drain = None

    def reset(self) -> None:
        with self._lock:
            self._refused_until = 0.0
            self._clear()
            if self._connection is not None:
                self._connection.disconnect()
            self._connection = None

    def __len__(self) -> int:
        return len(self._copies)


local_copies = LocalCopies()
gate.add_invalidation_listener(local_copies.forget)


def settle_rider(reader: TrackedReader) -> None:
    """Settle the request's rider (riders.py) from its copy, or from a read on the tracked connection
    that is then kept; inside `reader()`."""
    rider = riders.take()
    if rider is None:
        return
    value = local_copies.get(rider.key)
    if value is None:
        try:
            value = reader.get(rider.key)
        except RedisError as error:
            gate.failed(error)  # the rider settles from DynamoDB
        else:
            if value is not None:
                local_copies.put(rider.key, value, keys=[rider.key])
    rider.settle(value)


@receiver(setting_changed)
def _reset_on_settings_change(setting: str, **_: Any) -> None:
    if setting in {"CACHES", "CACHE_ENABLED", "REDIS_URL", "CACHE_LOCAL_COPIES", "CACHE_KEY_PREFIX"}:
        local_copies.reset()
