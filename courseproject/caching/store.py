"""Cache-aside on Redis for ready JSON bytes: lists stamped with generations, entities with revisions.

Two kinds of values, two ways to stay correct when readers race writers:

- Lists (pages of a query) are stamped with their family's generation, read in the same MGET as the
  page. A reader stamps what it loaded with the generation it read *before* loading, and a Lua
  script stores the page only if that generation is still current, so a page loaded before a
  concurrent write is never stored where later readers look.
- Entities (a course, its seats, a profile) carry the item's DynamoDB `revision`. Services write them
  through after every change, readers fill misses, and a Lua compare-and-set refuses to replace a
  newer revision with an older one, so a slow reader cannot undo a write. A deleted entity leaves a
  tombstone, an id that does not exist a short-lived negative entry.

Stampedes: one process (a Redis lock per key and generation, SET NX PX) loads a missing or
early-expiring value; others poll briefly for it, stop as soon as the lock is gone, and then load
it themselves without storing. Early recomputation is XFetch's probabilistic rule.

Redis trouble never fails a request. Reads go through a per-process circuit breaker (no socket
timeouts piled onto each request while Redis is away) and errors are logged once per burst. Writes
(write-through, invalidation) are always attempted; one that fails becomes a repair: the keys it
should have changed are deleted or bumped by this process as soon as Redis answers, and by a Celery
task (retried with backoff) in case this process does not live that long, so no other process
keeps serving the value a missed invalidation left behind.
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
from redis.client import Pipeline
from redis.exceptions import NoScriptError, RedisError

from courseproject import metrics
from courseproject.caching.keys import CacheKey, lock

logger = logging.getLogger(__name__)

ResultT = TypeVar("ResultT")

# XFetch's beta: above 1 favours earlier recomputation.
XFETCH_BETA = 1.0
LOCK_TTL_MS = 5_000
LOCK_POLL_SECONDS = 0.005
TOMBSTONE_REVISION = 2**62
# An id that does not exist is remembered this long (a later create writes through over it).
NEGATIVE_TTL_SECONDS = 60
NULL = b"null"

# Store a page only while its generation is current.
_SET_IF_GENERATION = """
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1
"""
# Store an entity unless a newer revision is there.
_SET_IF_NEWER = """
local current = redis.call('GET', KEYS[1])
if current then
  local revision = tonumber(string.match(current, '^(%-?%d+)|'))
  if revision and revision > tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1
"""
# A new generation: Redis's clock (one clock for every host) in microseconds, plus randomness.
_BUMP_GENERATION = """
local now = redis.call('TIME')
redis.call('SET', KEYS[1], now[1] .. string.format('%06d', now[2]) .. '-' .. ARGV[1], 'EX', ARGV[2])
return 1
"""
_RELEASE_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisGate:
    """The process's way to Redis: a breaker for reads, burst-limited logging, repairs of missed writes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._client: Redis | None = None
        self._open_until = 0.0
        self._failures_since_log = 0
        self._last_log = 0.0
        self._pending_deletes: set[str] = set()
        self._pending_bumps: set[str] = set()
        self._script_shas: dict[str, str] = {}

    def reset(self) -> None:
        with self._lock:
            self._client = None
            self._open_until = 0.0
            self._pending_deletes.clear()
            self._pending_bumps.clear()
            self._script_shas.clear()

    def _redis(self) -> Redis:
        client = self._client
        if client is None:
            from django_redis import get_redis_connection

            client = self._client = get_redis_connection("default")
        return client

    def client(self) -> Redis | None:
        """For reads: the Redis client, or None when caching is off or Redis failed a moment ago."""
        if not settings.CACHE_ENABLED or time.monotonic() < self._open_until:
            return None
        client = self._redis()
        if self._pending_deletes or self._pending_bumps:
            self._apply_repairs(client)
        return client

    def writer(self) -> Redis | None:
        """For writes: always tried (a skipped invalidation would leave others serving stale values)."""
        if not settings.CACHE_ENABLED:
            return None
        return self._redis()

    def failed(self, error: Exception) -> None:
        now = time.monotonic()
        with self._lock:
            self._open_until = now + settings.CACHE_BREAKER_SECONDS
            self._failures_since_log += 1
            if now - self._last_log >= settings.CACHE_ERROR_LOG_INTERVAL_SECONDS:
                logger.warning(
                    "Redis unavailable (%s: %s); serving from DynamoDB. %d failures since the last report.",
                    type(error).__name__,
                    error,
                    self._failures_since_log,
                )
                self._last_log = now
                self._failures_since_log = 0

    def missed_write(self, error: Exception, *, deletes: list[str], bumps: list[str]) -> None:
        """A write did not reach Redis: repair it here when Redis answers, and from a worker."""
        self.failed(error)
        with self._lock:
            self._pending_deletes.update(deletes)
            self._pending_bumps.update(bumps)
        if not settings.CELERY_TASK_ALWAYS_EAGER:  # inline, the repair would only fail again now
            from courseproject.background import dispatch, new_event_id
            from courseproject.tasks import repair_cache

            dispatch(repair_cache, event_id=new_event_id(), delete_keys=sorted(deletes), bump_keys=sorted(bumps))

    def _apply_repairs(self, client: Redis) -> None:
        with self._lock:
            deletes, bumps = set(self._pending_deletes), set(self._pending_bumps)
            self._pending_deletes.clear()
            self._pending_bumps.clear()
        try:
            apply_repairs(client, delete_keys=sorted(deletes), bump_keys=sorted(bumps))
        except RedisError as error:
            with self._lock:
                self._pending_deletes.update(deletes)
                self._pending_bumps.update(bumps)
            self.failed(error)
            return
        logger.warning("Redis answers again: repaired %d missed cache writes", len(deletes) + len(bumps))

    def run_script(self, target: Redis | Pipeline, source: str, *, keys: list[str], args: list[Any]) -> Any:
        """EVALSHA (loading the script once per process); in a pipeline the call is queued."""
        sha = self._script_shas.get(source)
        if sha is None:
            sha = self._script_shas[source] = self._redis().script_load(source)
        try:
            return target.evalsha(sha, len(keys), *keys, *args)
        except NoScriptError:  # Redis restarted and forgot it
            self._script_shas.clear()
            return target.evalsha(self.run_script_sha(source), len(keys), *keys, *args)

    def run_script_sha(self, source: str) -> str:
        sha = self._script_shas[source] = self._redis().script_load(source)
        return sha

    def run_pipeline(self, client: Redis, build: Callable[[Pipeline], None]) -> list[Any]:
        """Build and execute a pipeline; rebuilt once if Redis restarted and forgot our scripts."""
        for attempt in (1, 2):
            pipeline = client.pipeline(transaction=False)
            build(pipeline)
            try:
                return pipeline.execute()
            except NoScriptError:
                self._script_shas.clear()
                if attempt == 2:
                    raise
        return []


gate = RedisGate()


@receiver(setting_changed)
def _reset_on_settings_change(setting: str, **_: Any) -> None:
    if setting in {"CACHES", "CACHE_ENABLED", "REDIS_URL"}:
        gate.reset()


def apply_repairs(client: Redis, *, delete_keys: list[str], bump_keys: list[str]) -> None:
    """Delete entity keys and bump generations a missed write should have changed."""
    if not delete_keys and not bump_keys:
        return

    def build(pipeline: Pipeline) -> None:
        if delete_keys:
            pipeline.delete(*delete_keys)
        for generation_key in bump_keys:
            gate.run_script(
                pipeline,
                _BUMP_GENERATION,
                keys=[generation_key],
                args=[random.getrandbits(32), settings.CACHE_GENERATION_TTL_SECONDS],
            )

    gate.run_pipeline(client, build)


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


def _acquire(client: Redis, lock_key: str) -> str | None:
    token = uuid.uuid4().hex
    try:
        return token if client.set(lock_key, token, nx=True, px=LOCK_TTL_MS) else None
    except RedisError as error:
        gate.failed(error)
        return None


def _release(lock_key: str, token: str) -> None:
    client = gate.client()
    if client is None:
        return  # the lock expires by itself
    try:
        gate.run_script(client, _RELEASE_LOCK, keys=[lock_key], args=[token])
    except RedisError as error:
        gate.failed(error)


def _stored_while_we_waited(
    client: Redis, key: CacheKey, lock_key: str, token: str, is_current: Callable[[Entry], bool]
) -> Entry | None:
    """After winning the lock on a miss: the previous holder may have stored the value between our
    read and our lock (double-checked locking); then use it instead of loading it again."""
    try:
        entry = decode(client.get(key.name))
    except RedisError as error:
        gate.failed(error)
        return None
    if entry is not None and is_current(entry):
        _release(lock_key, token)
        return entry
    return None


def _wait_for(client: Redis, key: CacheKey, lock_key: str, is_current: Callable[[Entry], bool]) -> Entry | None:
    """Poll for the value another process is loading: until it appears, the lock is gone, or
    CACHE_LOCK_WAIT_SECONDS have passed."""
    deadline = time.monotonic() + settings.CACHE_LOCK_WAIT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(LOCK_POLL_SECONDS * (1 + random.random()))
        try:
            raw, holder = client.mget(key.name, lock_key)
        except RedisError as error:
            gate.failed(error)
            return None
        entry = decode(raw)
        if entry is not None and is_current(entry):
            return entry
        if holder is None:
            return None  # the loader finished without storing (or failed): load it ourselves
    return None


# --- Lists ---------------------------------------------------------------------------------------


def _server_time_ns(client: Redis) -> int:
    seconds, microseconds = client.time()
    return (int(seconds) * 1_000_000 + int(microseconds)) * 1000


def _generation_age_seconds(generation: bytes, *, now_ns: int) -> float:
    try:
        return (now_ns - int(generation.split(b"-", 1)[0]) * 1000) / 1e9
    except ValueError:
        return math.inf


def _current_generation(client: Redis, generation_key: str) -> bytes:
    generation = client.get(generation_key)
    if generation is None:
        # A missing generation (first use, eviction) starts fresh; never reuse an old one.
        gate.run_script(
            client,
            _BUMP_GENERATION,
            keys=[generation_key],
            args=[random.getrandbits(32), settings.CACHE_GENERATION_TTL_SECONDS],
        )
        generation = client.get(generation_key) or b"0-0"
    return generation


def _load_and_store_page(
    client: Redis, key: CacheKey, *, generation_key: str, generation: bytes, load: Callable[[], bytes]
) -> tuple[bytes, bool]:
    # Measured before loading, on Redis's clock: right after a write a GSI may not show it yet, so
    # a page loaded then is kept only CACHE_GSI_SETTLE_SECONDS and not refreshed early.
    try:
        settled = (
            _generation_age_seconds(generation, now_ns=_server_time_ns(client)) > settings.CACHE_GSI_SETTLE_SECONDS
        )
    except RedisError as error:
        gate.failed(error)
        return load(), False
    payload, compute_ms = _timed(load)
    ttl = key.ttl if settled else max(1, settings.CACHE_GSI_SETTLE_SECONDS)
    value = encode(revision=0, generation=generation, compute_ms=compute_ms if settled else 0, ttl=ttl, payload=payload)
    try:
        stored = gate.run_script(
            client, _SET_IF_GENERATION, keys=[key.name, generation_key], args=[generation, value, ttl]
        )
    except RedisError as error:
        gate.failed(error)
        return payload, False
    return payload, bool(stored)


def cached_page(key: CacheKey, *, generation_key: str, load: Callable[[], bytes]) -> tuple[bytes, bool]:
    """The JSON bytes of a list page and whether they came from Redis (current), else loaded once."""
    client = gate.client()
    if client is None:
        return load(), False
    try:
        raw, generation = client.mget(key.name, generation_key)
        if generation is None:
            generation = _current_generation(client, generation_key)
    except RedisError as error:
        gate.failed(error)
        return load(), False

    def is_current(entry: Entry) -> bool:
        return entry.generation == generation

    entry = decode(raw)
    if entry is not None and not is_current(entry):
        entry = None
    metrics.record_cache_lookup(key.family, hit=entry is not None)
    lock_key = f"{lock(key)}:{generation.decode()}"
    token = _acquire(client, lock_key) if entry is None or entry.due_for_early_refresh() else None
    if token is None:
        if entry is not None:
            return entry.payload, True  # fresh enough, or another process is refreshing it
        waited = _wait_for(client, key, lock_key, is_current)
        return (waited.payload, True) if waited is not None else (load(), False)
    if entry is None and (stored := _stored_while_we_waited(client, key, lock_key, token, is_current)):
        return stored.payload, True
    try:
        payload, _ = _load_and_store_page(client, key, generation_key=generation_key, generation=generation, load=load)
        return payload, False
    finally:
        _release(lock_key, token)


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
    return _load_and_store_page(client, key, generation_key=generation_key, generation=generation, load=load)


def bump_generations(*generation_keys: str) -> None:
    """Invalidate every page of these families at once: O(1) per family, no key scans."""
    client = gate.writer()
    if client is None or not generation_keys:
        return
    try:
        apply_repairs(client, delete_keys=[], bump_keys=list(generation_keys))
    except RedisError as error:
        gate.missed_write(error, deletes=[], bumps=list(generation_keys))


# --- Entities ------------------------------------------------------------------------------------

EntityLoad = Callable[[], tuple[int, bytes] | None]
EntitiesLoad = Callable[[list[str]], dict[str, tuple[int, bytes]]]


def _store_entities(
    entities: list[tuple[CacheKey, int, bytes, int]], *, compute_ms: int = 1, write_through: bool = False
) -> None:
    """Compare-and-set by revision, all in one pipelined round trip; entries are (key, revision, payload, ttl).

    A write-through (after a committed change) is always attempted and repaired if it fails; a
    reader's fill respects the breaker and is simply dropped if Redis is away.
    """
    client = gate.writer() if write_through else gate.client()
    if client is None or not entities:
        return

    def build(pipeline: Pipeline) -> None:
        for key, revision, payload, ttl in entities:
            value = encode(revision=revision, generation=b"-", compute_ms=compute_ms, ttl=ttl, payload=payload)
            gate.run_script(pipeline, _SET_IF_NEWER, keys=[key.name], args=[revision, value, ttl])

    try:
        gate.run_pipeline(client, build)
    except RedisError as error:
        if write_through:
            gate.missed_write(error, deletes=[key.name for key, *_ in entities], bumps=[])
        else:
            gate.failed(error)


def put_entity(key: CacheKey, *, revision: int, payload: bytes) -> None:
    """Write-through after a change; an older revision never replaces a newer one."""
    _store_entities([(key, revision, payload, key.ttl)], write_through=True)


def fill_entities(entities: list[tuple[CacheKey, int, bytes]]) -> None:
    """Store values a reader loaded with consistent reads (cache warming, seats seen on a miss)."""
    _store_entities([(key, revision, payload, key.ttl) for key, revision, payload in entities])


def put_tombstone(key: CacheKey) -> None:
    """Mark a deleted entity so that no reader can put back what it loaded before the delete."""
    _store_entities([(key, TOMBSTONE_REVISION, NULL, key.ttl)], write_through=True)


def forget(key: CacheKey) -> None:
    """Delete a key whose value can no longer be trusted; a miss then reloads it."""
    client = gate.writer()
    if client is None:
        return
    try:
        client.delete(key.name)
    except RedisError as error:
        gate.missed_write(error, deletes=[key.name], bumps=[])


def _present(payload: bytes) -> bytes | None:
    return None if payload == NULL else payload


def cached_entity(key: CacheKey, *, load: EntityLoad) -> tuple[bytes | None, bool]:
    """One entity's JSON bytes (None if it does not exist) and whether they came from Redis."""

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
        return load_payload(), False

    metrics.record_cache_lookup(key.family, hit=entry is not None)
    lock_key = lock(key)
    token = _acquire(client, lock_key) if entry is None or entry.due_for_early_refresh() else None
    if token is None:
        if entry is not None:
            return _present(entry.payload), True  # fresh enough, or another process is refreshing it
        waited = _wait_for(client, key, lock_key, lambda _: True)
        return (_present(waited.payload), True) if waited is not None else (load_payload(), False)
    if entry is None and (stored := _stored_while_we_waited(client, key, lock_key, token, lambda _: True)):
        return _present(stored.payload), True
    try:
        loaded, compute_ms = _timed(load)
        if loaded is None:
            _store_entities([(key, 0, NULL, NEGATIVE_TTL_SECONDS)], compute_ms=compute_ms)
            return None, False
        revision, payload = loaded
        _store_entities([(key, revision, payload, key.ttl)], compute_ms=compute_ms)
        return payload, False
    finally:
        _release(lock_key, token)


def cached_entities(keys: dict[str, CacheKey], *, load_missing: EntitiesLoad) -> tuple[dict[str, bytes], bool]:
    """Many entities in one MGET, the missing ones loaded together (one BatchGetItem) and stored.
    Returns them by id (absent ids left out) and whether any came from Redis."""
    if not keys:
        return {}, False
    client = gate.client()
    ids = list(keys)
    raw_values: list[bytes | None] = []
    if client is not None:
        try:
            raw_values = client.mget([keys[item_id].name for item_id in ids])
        except RedisError as error:
            gate.failed(error)
    if not raw_values:
        return {item_id: payload for item_id, (_, payload) in load_missing(ids).items()}, False

    found: dict[str, bytes] = {}
    missing: list[str] = []
    for item_id, raw in zip(ids, raw_values, strict=True):
        entry = decode(raw)
        metrics.record_cache_lookup(keys[item_id].family, hit=entry is not None)
        if entry is None:
            missing.append(item_id)
        elif entry.payload != NULL:
            found[item_id] = entry.payload
    if missing:
        loaded = load_missing(missing)
        _store_entities(
            [
                (keys[item_id], *loaded[item_id], keys[item_id].ttl)
                if item_id in loaded
                else (keys[item_id], 0, NULL, NEGATIVE_TTL_SECONDS)
                for item_id in missing
            ]
        )
        found.update({item_id: payload for item_id, (_, payload) in loaded.items()})
    return found, len(missing) < len(ids)
