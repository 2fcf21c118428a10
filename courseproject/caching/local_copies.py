"""Process-local copies of the hottest cached reads, kept fresh by Redis's client-side tracking.

A copy is what a cached read served (a list page's body, a course, a student's enrollments page, a
token check) with the Redis keys it was built from. Each process holds one connection on which Redis
broadcasts an `invalidate` message for every change, deletion or expiry of a key in the copied
families (RESP3, `CLIENT TRACKING ON BCAST PREFIX ...`, keys.copied_key_prefixes). Every use of a
copy first applies what has arrived, with a non-blocking read of that socket (no round trip). Redis
queues a message while it executes the change and writes it in the same pass of its event loop as
its reply to the writer, before that reply, so it is here before the writer's answer can reach a
client that then asks this process (tests/e2e/test_local_copies.py). A FLUSHDB's message is the
exception: it is written just after the reply to whoever flushed. A copy is kept from an ordinary
read made inside `filling()`; a message about one of its keys from just before the read until it is
kept stops it, a later one removes it. A broken connection drops every copy and fill in progress;
one that goes silent is caught by a canary (tracking.py). See docs/cache.md.
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
from redis.connection import AbstractConnection
from redis.exceptions import RedisError, TimeoutError

from courseproject.caching import keys as cache_keys
from courseproject.caching.connection import gate
from courseproject.caching.tracking import (
    Canary,
    CanaryUnheard,
    TrackingRefused,
    switch_tracking_on,
    tracking_connection,
)
from courseproject.observability.counters import record_local_copy_lookups

logger = logging.getLogger(__name__)

# A server that refuses CLIENT TRACKING (an ACL, a managed service's rules) is asked again this late.
REFUSED_RETRY_SECONDS = 60


@dataclass(frozen=True)
class Copy:
    value: Any
    keys: tuple[bytes, ...]
    kept_at: float  # time.monotonic()
    expires_at: float


class Fill:
    """A read whose result may be kept: `keep` refuses it if a key it names changed meanwhile."""

    def __init__(self, owner: LocalCopies | None) -> None:
        self._owner = owner
        # Keys changed since the fill began; None: anything may have (a flush, a lost connection:
        # every reconnect is preceded by _lose_all, so a fill never ends on another connection).
        self.changed: set[bytes] | None = set() if owner is not None else None

    def keep(self, name: str, value: Any, *, keys: Sequence[str], seconds: float | None = None) -> None:
        """Keep `value`, read inside this fill from `keys`, for at most `seconds`."""
        self.keep_all([(name, value, keys)], seconds=seconds)

    def keep_all(self, copies: Sequence[tuple[str, Any, Sequence[str]]], *, seconds: float | None = None) -> None:
        """`keep` each (name, value, keys), under one lock: a page's items are kept with it."""
        if self._owner is not None and self.changed is not None:
            self._owner.keep(self, copies, seconds=seconds)


class LocalCopies:
    def __init__(self) -> None:
        # Guards the connection, the copies and the fills; held for microseconds (a drain, a lookup).
        self._lock = threading.Lock()
        self._copies: dict[str, Copy] = {}
        self._by_key: dict[bytes, set[str]] = {}
        self._fills: set[Fill] = set()
        self._connection: AbstractConnection | None = None
        self._prefixes: tuple[bytes, ...] = ()  # the key prefixes Redis broadcasts changes of
        self._pid = 0
        self._refused_until = 0.0  # time.monotonic(): a server that refused CLIENT TRACKING
        self._canary = Canary()
        # Keys this process could not invalidate in Redis, or just repaired (connection.py): their
        # copies go before the next lookup, since no message about them may come.
        self._forget_lock = threading.Lock()
        self._to_forget: set[bytes] = set()

    # --- reading and filling ---------------------------------------------------------------------

    def lookup(self, name: str) -> Any | None:
        """The live copy named `name`, after every message that has arrived is applied; None if
        there is none or copies are off or unavailable."""
        return self.lookup_all((name,))[0]

    def lookup_all(self, names: Sequence[str]) -> list[Any | None]:
        """`lookup` for several names after one drain: the copies as of the same moment."""
        if not self._enabled():
            return [None] * len(names)
        with self._lock:
            if not self._drained():
                return [None] * len(names)
            now = time.monotonic()
            found = [self._live(name, now) for name in names]
            send_canary = self._canary.due(now)
        if send_canary:
            self._canary.send()
        hits = len(found) - found.count(None)
        record_local_copy_lookups(hits=hits, misses=len(found) - hits)
        return found

    def _live(self, name: str, now: float) -> Any | None:
        copy = self._copies.get(name)
        if copy is None:
            return None
        if copy.expires_at <= now or not self._canary.proves(copy.kept_at, now):
            self._remove(name)
            return None
        return copy.value

    @contextmanager
    def filling(self) -> Iterator[Fill]:
        """Begin before the read is sent; `Fill.keep` what it read (a no-op if copies are off)."""
        if not self._enabled():
            yield Fill(None)
            return
        with self._lock:
            fill = Fill(self) if self._drained() else Fill(None)
            if fill.changed is not None:
                self._fills.add(fill)
        try:
            yield fill
        finally:
            with self._lock:
                self._fills.discard(fill)

    def keep(self, fill: Fill, copies: Sequence[tuple[str, Any, Sequence[str]]], *, seconds: float | None) -> None:
        lifetime = settings.CACHE_LOCAL_COPY_SECONDS
        if seconds is not None:
            lifetime = min(lifetime, seconds)
        with self._lock:
            if not self._drained() or lifetime <= 0:
                return
            now = time.monotonic()
            for name, value, keys in copies:
                encoded = tuple(key.encode() for key in keys)
                if fill.changed is None or not fill.changed.isdisjoint(encoded):
                    continue  # changed after the read began: the read may not show it
                if not all(key.startswith(self._prefixes) for key in encoded):
                    continue  # Redis would not say when such a key changes (keys.copied_key_prefixes)
                self._remove(name)
                while len(self._copies) >= settings.CACHE_LOCAL_COPY_LIMIT:
                    self._remove(next(iter(self._copies)))  # the oldest kept
                self._copies[name] = Copy(value=value, keys=encoded, kept_at=now, expires_at=now + lifetime)
                for key in encoded:
                    self._by_key.setdefault(key, set()).add(name)

    def forget(self, keys: set[str]) -> None:
        """Drop the copies built from these keys before any is served again (never waits)."""
        with self._forget_lock:
            self._to_forget.update(key.encode() for key in keys)

    def _enabled(self) -> bool:
        return settings.CACHE_LOCAL_COPIES and self._refused_until <= time.monotonic()

    # --- the connection (under the lock) ---------------------------------------------------------

    def _drained(self) -> bool:
        """The connection open, and every message that has arrived applied; False if unavailable."""
        # One more try after a failure: Redis closing a connection (a restart, a failover) is no outage.
        for attempt in (1, 2):
            try:
                self._drain()
                break
            except TrackingRefused as error:
                self._lose_connection(error)
                self._refused_until = time.monotonic() + REFUSED_RETRY_SECONDS
                logger.warning("local copies off for %d s: Redis refused tracking (%s)", REFUSED_RETRY_SECONDS, error)
                return False
            except RedisError as error:
                if isinstance(error, CanaryUnheard):
                    logger.warning("local copies dropped and their tracking connection reopened: %s", error)
                self._lose_connection(error)
                if attempt == 2:
                    gate.failed(error)
                    return False
            except _PartialMessage:
                return False  # half a message so far: nothing can be proven fresh this time
        if self._to_forget:
            with self._forget_lock:
                forgotten, self._to_forget = self._to_forget, set()
            self._invalidate_keys(forgotten)
        return True

    def _drain(self) -> None:
        if self._pid != os.getpid():  # a forked child must not share its parent's socket
            self._connection, self._pid = None, os.getpid()
            self._lose_all()
        connection = self._connection
        if connection is None:
            connection = self._connection = self._new_connection()
        if connection._sock is None:
            self._lose_all()  # whatever was broadcast while it was closed is lost
            connection.connect()
        while connection.can_read(timeout=0):
            try:
                connection.read_response(push_request=True, timeout=0, disconnect_on_error=False)
            except TimeoutError as error:
                raise _PartialMessage from error
        self._canary.check(time.monotonic())

    def _new_connection(self) -> AbstractConnection:
        return tracking_connection(on_connect=self._track)

    def _track(self, connection: AbstractConnection) -> None:
        self._prefixes = tuple(prefix.encode() for prefix in cache_keys.copied_key_prefixes())
        switch_tracking_on(connection, prefixes=self._prefixes, on_message=self._invalidated)
        self._canary.restart(time.monotonic())

    def _invalidated(self, message: list[Any]) -> None:
        # ["invalidate", [key, ...]], or ["invalidate", None] when a database was flushed.
        if message[1] is None:
            self._lose_all()
            return
        self._invalidate_keys({key if isinstance(key, bytes) else key.encode() for key in message[1]})

    def _invalidate_keys(self, changed: set[bytes]) -> None:
        self._canary.heard(changed)
        for fill in self._fills:
            if fill.changed is not None:
                fill.changed.update(changed)
        for key in changed:
            for name in self._by_key.pop(key, ()):
                self._remove(name)

    def _lose_connection(self, error: Exception) -> None:
        self._lose_all()
        if self._connection is not None:
            self._connection.disconnect()
        logger.info("local copies dropped: their tracking connection failed (%s)", error)

    def _lose_all(self) -> None:
        """Every copy and fill: what changed may not have been told."""
        self._copies.clear()
        self._by_key.clear()
        for fill in self._fills:
            fill.changed = None

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

    def reset(self) -> None:
        with self._lock:
            self._refused_until = 0.0
            self._lose_all()
            if self._connection is not None:
                self._connection.disconnect()
            self._connection = None

    def __len__(self) -> int:
        return len(self._copies)


class _PartialMessage(Exception):
    pass


local_copies = LocalCopies()
gate.add_invalidation_listener(local_copies.forget)


@receiver(setting_changed)
def _reset_on_settings_change(setting: str, **_: Any) -> None:
    if setting in {"CACHES", "CACHE_ENABLED", "REDIS_URL", "CACHE_LOCAL_COPIES", "CACHE_KEY_PREFIX"}:
        local_copies.reset()
