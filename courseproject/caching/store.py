"""Cache-aside on Redis for ready JSON bytes: lists stamped with generations, entities with revisions.

Two kinds of values, two ways to stay correct when readers race writers:

- Lists (pages of a query) are stamped with their family's generation, read in the same MGET as the
  page. A reader stamps what it loaded with the generation it read *before* loading, so a page loaded
  before a concurrent write carries the old generation and is never served after the writer's bump.
- Entities (a course, its seats, a profile) carry the item's DynamoDB `revision`. Services write them
  through after every change, readers fill misses, and a Lua compare-and-set refuses to replace a
  newer revision with an older one, so a slow reader cannot undo a write.

Stampedes: one process (a Redis lock, SET NX PX) loads a missing or early-expiring value; others
poll briefly for it and then load it themselves without storing. Early recomputation is XFetch's
probabilistic rule, so hot keys are refreshed before they expire without a thundering herd.

Redis trouble never fails a request: every call is guarded, a failure opens a short circuit breaker
(no socket timeouts piled onto each request), it is logged once per burst, and a write that could not
reach Redis schedules a flush of the cache database for when Redis answers again, because a missed
invalidation would otherwise serve stale data once Redis is back.
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from redis import Redis
from redis.exceptions import RedisError

from courseproject import metrics
from courseproject.caching.keys import CacheKey, lock

logger = logging.getLogger(__name__)

ResultT = TypeVar("ResultT")

# XFetch's beta: above 1 favours earlier recomputation.
XFETCH_BETA = 1.0
LOCK_TTL_MS = 5_000
LOCK_POLL_SECONDS = 0.005
# After a write, DynamoDB's GSIs may lag the table for a moment; a page loaded then is kept this briefly.
GSI_SETTLE_SECONDS = 2
TOMBSTONE_REVISION = 2**62

_SET_IF_NEWER = """
local current = redis.call('GET', KEYS[1])
if current then
  local revision = tonumber(string.match(current, '^(%-?%d+)|'))
  if revision and revision > tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1
"""
_RELEASE_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisGate:
    """The process's way to Redis: a circuit breaker, burst-limited logging, flush after missed writes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._client: Redis | None = None
        self._open_until = 0.0
        self._failures_since_log = 0
        self._last_log = 0.0
        self._flush_pending = False
        self._scripts: dict[str, Any] = {}

    def reset(self) -> None:
        with self._lock:
            self._client = None
            self._open_until = 0.0
            self._flush_pending = False
            self._scripts = {}

    def client(self) -> Redis | None:
        """The Redis client, or None when caching is off or Redis failed a moment ago."""
        if not settings.CACHE_ENABLED or time.monotonic() < self._open_until:
            return None
        client = self._client
        if client is None:
            from django_redis import get_redis_connection

            client = self._client = get_redis_connection("default")
        if self._flush_pending:
            self._flush_after_outage(client)
        return client

    def script(self, source: str) -> Any:
        client = self.client()
        if client is None:
            return None
        script = self._scripts.get(source)
        if script is None:
            script = self._scripts[source] = client.register_script(source)
        return script

    def failed(self, error: Exception, *, missed_write: bool = False) -> None:
        now = time.monotonic()
        with self._lock:
            self._open_until = now + settings.CACHE_BREAKER_SECONDS
            self._failures_since_log += 1
            if missed_write:
                self._flush_pending = True
            if now - self._last_log >= settings.CACHE_ERROR_LOG_INTERVAL_SECONDS:
                logger.warning(
                    "Redis unavailable (%s: %s); serving from DynamoDB. %d failures since the last report.",
                    type(error).__name__,
                    error,
                    self._failures_since_log,
                )
                self._last_log = now
                self._failures_since_log = 0

    def _flush_after_outage(self, client: Redis) -> None:
        try:
            client.flushdb(asynchronous=True)
        except RedisError as error:
            self.failed(error)
            return
        self._flush_pending = False
        logger.warning("Redis is back after writes it missed; flushed the cache database so nothing stale is served.")


gate = RedisGate()


@receiver(setting_changed)
def _reset_on_settings_change(setting: str, **_: Any) -> None:
    if setting in {"CACHES", "CACHE_ENABLED", "REDIS_URL"}:
        gate.reset()


@dataclass(frozen=True)
class Entry:
    revision: int
    generation: bytes
    compute_ms: int
    expires_at_ms: int
    payload: bytes

    def due_for_early_refresh(self) -> bool:
        """XFetch: refresh with a probability that rises as expiry nears, weighted by load time."""
        now_ms = time.time() * 1000
        return now_ms - self.compute_ms * XFETCH_BETA * math.log(1.0 - random.random()) >= self.expires_at_ms


def encode(*, revision: int, generation: bytes, compute_ms: int, ttl: int, payload: bytes) -> bytes:
    expires_at_ms = int(time.time() * 1000) + ttl * 1000
    return b"%d|%s|%d|%d|" % (revision, generation, compute_ms, expires_at_ms) + payload


def decode(raw: bytes | None) -> Entry | None:
    if not raw:
        return None
    try:
        revision, generation, compute_ms, expires_at_ms, payload = raw.split(b"|", 4)
        return Entry(int(revision), generation, int(compute_ms), int(expires_at_ms), payload)
    except ValueError:
        return None  # written by another schema; treated as a miss and overwritten


def _timed(load: Callable[[], ResultT]) -> tuple[ResultT, int]:
    started = time.perf_counter()
    result = load()
    return result, max(1, int((time.perf_counter() - started) * 1000))


def _acquire(client: Redis, key: CacheKey) -> str | None:
    token = uuid.uuid4().hex
    try:
        return token if client.set(lock(key), token, nx=True, px=LOCK_TTL_MS) else None
    except RedisError as error:
        gate.failed(error)
        return None


def _release(key: CacheKey, token: str) -> None:
    release = gate.script(_RELEASE_LOCK)
    if release is None:
        return  # the lock expires by itself
    try:
        release(keys=[lock(key)], args=[token])
    except RedisError as error:
        gate.failed(error)


def _wait_for(client: Redis, key: CacheKey, is_current: Callable[[Entry], bool]) -> Entry | None:
    """Poll for the value another process is loading, for at most CACHE_LOCK_WAIT_SECONDS."""
    deadline = time.monotonic() + settings.CACHE_LOCK_WAIT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(LOCK_POLL_SECONDS * (1 + random.random()))
        try:
            entry = decode(client.get(key.name))
        except RedisError as error:
            gate.failed(error)
            return None
        if entry is not None and is_current(entry):
            return entry
    return None


# --- Lists ---------------------------------------------------------------------------------------


def new_generation() -> bytes:
    """Unique per bump (time and randomness), and its age can be read back: `<ns>-<random>`."""
    return b"%d-%d" % (time.time_ns(), random.getrandbits(32))


def _generation_age_seconds(generation: bytes) -> float:
    try:
        return (time.time_ns() - int(generation.split(b"-", 1)[0])) / 1e9
    except ValueError:
        return math.inf


def cached_page(key: CacheKey, *, generation_key: str, load: Callable[[], bytes]) -> bytes:
    """The JSON bytes of a list page, from Redis when current, else loaded once and stored."""
    client = gate.client()
    if client is None:
        return load()
    try:
        raw, generation = client.mget(key.name, generation_key)
        if generation is None:
            generation = _current_generation(client, generation_key)
    except RedisError as error:
        gate.failed(error)
        return load()

    def is_current(entry: Entry) -> bool:
        return entry.generation == generation

    entry = decode(raw)
    if entry is not None and not is_current(entry):
        entry = None
    metrics.record_cache_lookup(key.family, hit=entry is not None)
    token = _acquire(client, key) if entry is None or entry.due_for_early_refresh() else None
    if token is None:
        if entry is not None:
            return entry.payload  # fresh enough, or another process is refreshing it
        waited = _wait_for(client, key, is_current)
        return waited.payload if waited is not None else load()
    try:
        payload, compute_ms = _timed(load)
        _store_page(client, key, generation=generation, payload=payload, compute_ms=compute_ms)
        return payload
    finally:
        _release(key, token)


def _current_generation(client: Redis, generation_key: str) -> bytes:
    generation = client.get(generation_key)
    if generation is None:
        # A missing generation (first use, eviction) starts fresh; never reuse an old one.
        client.set(generation_key, new_generation(), nx=True, ex=settings.CACHE_GENERATION_TTL_SECONDS)
        generation = client.get(generation_key) or b"unknown"
    return generation


def _store_page(client: Redis, key: CacheKey, *, generation: bytes, payload: bytes, compute_ms: int) -> bool:
    # Loaded right after a write, a GSI may not show it yet: keep such a page only briefly, and do
    # not refresh it early (compute time 0): it should simply expire.
    settled = _generation_age_seconds(generation) > GSI_SETTLE_SECONDS
    ttl = key.ttl if settled else GSI_SETTLE_SECONDS
    value = encode(revision=0, generation=generation, compute_ms=compute_ms if settled else 0, ttl=ttl, payload=payload)
    try:
        client.set(key.name, value, ex=ttl)
    except RedisError as error:
        gate.failed(error)
        return False
    return True


def refresh_page(key: CacheKey, *, generation_key: str, load: Callable[[], bytes]) -> tuple[bytes, bool]:
    """Load a page and store it whatever is cached now (cache warming); returns it and whether it was stored."""
    client = gate.client()
    if client is None:
        return load(), False
    try:
        generation = _current_generation(client, generation_key)
    except RedisError as error:
        gate.failed(error)
        return load(), False
    payload, compute_ms = _timed(load)
    return payload, _store_page(client, key, generation=generation, payload=payload, compute_ms=compute_ms)


def bump_generations(*generation_keys: str) -> None:
    """Invalidate every page of these families at once: O(1) per family, no key scans."""
    if not generation_keys:
        return
    client = gate.client()
    if client is None:
        note_missed_write()
        return
    try:
        pipeline = client.pipeline(transaction=False)
        for generation_key in generation_keys:
            pipeline.set(generation_key, new_generation(), ex=settings.CACHE_GENERATION_TTL_SECONDS)
        pipeline.execute()
    except RedisError as error:
        gate.failed(error, missed_write=True)


# --- Entities ------------------------------------------------------------------------------------

EntityLoad = Callable[[], tuple[int, bytes] | None]
EntitiesLoad = Callable[[list[str]], dict[str, tuple[int, bytes]]]


def _store_entities(entities: list[tuple[CacheKey, int, bytes]], *, compute_ms: int = 1) -> None:
    """Compare-and-set by revision, all in one pipelined round trip."""
    set_if_newer = gate.script(_SET_IF_NEWER)
    client = gate.client()
    if set_if_newer is None or client is None or not entities:
        return
    try:
        pipeline = client.pipeline(transaction=False)
        for key, revision, payload in entities:
            value = encode(revision=revision, generation=b"-", compute_ms=compute_ms, ttl=key.ttl, payload=payload)
            set_if_newer(keys=[key.name], args=[revision, value, key.ttl], client=pipeline)
        pipeline.execute()
    except RedisError as error:
        gate.failed(error, missed_write=True)


def put_entity(key: CacheKey, *, revision: int, payload: bytes) -> None:
    """Write-through after a change; an older revision never replaces a newer one."""
    put_entities([(key, revision, payload)])


def put_entities(entities: list[tuple[CacheKey, int, bytes]]) -> None:
    """Write many entities through in one round trip (cache warming)."""
    if not settings.CACHE_ENABLED:
        return
    if gate.client() is None:
        note_missed_write()
        return
    _store_entities(entities)


def forget(key: CacheKey) -> None:
    """Delete a key whose value can no longer be trusted; a miss then reloads it."""
    client = gate.client()
    if client is None:
        note_missed_write()
        return
    try:
        client.delete(key.name)
    except RedisError as error:
        gate.failed(error, missed_write=True)


def put_tombstone(key: CacheKey) -> None:
    """Mark a deleted entity so that no reader can put back what it loaded before the delete."""
    put_entity(key, revision=TOMBSTONE_REVISION, payload=b"null")


def _present(payload: bytes) -> bytes | None:
    return None if payload == b"null" else payload


def cached_entity(key: CacheKey, *, load: EntityLoad) -> bytes | None:
    """One entity's JSON bytes (None if it does not exist), with stampede protection."""

    def load_payload() -> bytes | None:
        loaded = load()
        return loaded[1] if loaded is not None else None

    client = gate.client()
    entry = None
    if client is not None:
        try:
            entry = decode(client.get(key.name))
        except RedisError as error:
            gate.failed(error)
            client = None
    if client is None:
        return load_payload()

    metrics.record_cache_lookup(key.family, hit=entry is not None)
    token = _acquire(client, key) if entry is None or entry.due_for_early_refresh() else None
    if token is None:
        if entry is not None:
            return _present(entry.payload)  # fresh enough, or another process is refreshing it
        waited = _wait_for(client, key, lambda _: True)
        return _present(waited.payload) if waited is not None else load_payload()
    try:
        loaded, compute_ms = _timed(load)
        if loaded is None:
            return None
        revision, payload = loaded
        _store_entities([(key, revision, payload)], compute_ms=compute_ms)
        return payload
    finally:
        _release(key, token)


def cached_entities(keys: dict[str, CacheKey], *, load_missing: EntitiesLoad) -> dict[str, bytes]:
    """Many entities in one MGET; the missing ones loaded together (one BatchGetItem) and stored."""
    if not keys:
        return {}
    client = gate.client()
    if client is None:
        return {item_id: payload for item_id, (_, payload) in load_missing(list(keys)).items()}
    ids = list(keys)
    try:
        raw_values = client.mget([keys[item_id].name for item_id in ids])
    except RedisError as error:
        gate.failed(error)
        return {item_id: payload for item_id, (_, payload) in load_missing(ids).items()}

    found: dict[str, bytes] = {}
    missing: list[str] = []
    for item_id, raw in zip(ids, raw_values, strict=True):
        entry = decode(raw)
        if entry is None:
            missing.append(item_id)
        elif entry.payload != b"null":
            found[item_id] = entry.payload
        metrics.record_cache_lookup(keys[item_id].family, hit=entry is not None)
    if missing:
        loaded = load_missing(missing)
        _store_entities([(keys[item_id], revision, payload) for item_id, (revision, payload) in loaded.items()])
        found.update({item_id: payload for item_id, (_, payload) in loaded.items()})
    return found


def is_live() -> bool:
    """True when cached values are in use for this request (caching on and Redis reachable)."""
    return gate.client() is not None


def note_missed_write() -> None:
    """A change could not be written through; flush the cache when Redis answers again."""
    if settings.CACHE_ENABLED:
        gate.failed(RuntimeError("cache write-through skipped while Redis is unavailable"), missed_write=True)
