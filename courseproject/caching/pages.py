"""List pages (one page of a query) as cached JSON bytes, stamped with their family's generation.

A reader reads the page and its family's generation in one MGET. It stamps what it loads with the
generation it read *before* loading, and a Lua script stores the page only if that generation is
still current, so a page loaded before a concurrent write is never stored where later readers
look. A write bumps the generation (`bump_generations`): O(1) per family, no key scans, and every
page stamped with the old generation is a miss from then on.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from django.conf import settings
from redis import Redis
from redis.exceptions import RedisError

from courseproject.caching import riders
from courseproject.caching.connection import bump_generation, gate, invalidate
from courseproject.caching.entries import (
    Entry,
    acquire_lock,
    decode,
    encode,
    release_lock,
    stored_while_we_waited,
    timed,
    wait_for,
)
from courseproject.caching.keys import CacheKey, lock
from courseproject.caching.repair import missed_write
from courseproject.observability.counters import record_cache_lookup

# Store a page only while its generation is current.
SET_IF_GENERATION = """
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1
"""


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
        bump_generation(client, generation_key)
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
    payload, compute_ms = timed(load)
    ttl = key.ttl if settled else max(1, settings.CACHE_GSI_SETTLE_SECONDS)
    value = encode(revision=0, generation=generation, compute_ms=compute_ms if settled else 0, ttl=ttl, payload=payload)
    try:
        stored = gate.run_script(
            client, SET_IF_GENERATION, keys=[key.name, generation_key], args=[generation, value, ttl]
        )
    except RedisError as error:
        gate.failed(error)
        return payload, False
    return payload, bool(stored)


def _read_page(client: Redis, key: CacheKey, generation_key: str) -> tuple[bytes | None, bytes] | None:
    """The page and its list's generation in one round trip, with the request's rider (its token
    check) if it has one; None if Redis failed."""
    rider = riders.take()
    try:
        raw, generation, *rider_value = client.mget(key.name, generation_key, *([rider.key] if rider else []))
    except RedisError as error:
        gate.failed(error)
        if rider is not None:
            rider.settle(None)
        return None
    if rider is not None:
        rider.settle(rider_value[0])
    try:
        return raw, generation if generation is not None else _current_generation(client, generation_key)
    except RedisError as error:
        gate.failed(error)
        return None


def cached_page(key: CacheKey, *, generation_key: str, load: Callable[[], bytes]) -> tuple[bytes, bool]:
    """The JSON bytes of a list page and whether they came from Redis (current), else loaded once."""
    client = gate.client()
    read = _read_page(client, key, generation_key) if client is not None else None
    if read is None:
        return load(), False
    raw, generation = read

    def is_current(entry: Entry) -> bool:
        return entry.generation == generation

    entry = decode(raw)
    if entry is not None and not is_current(entry):
        entry = None
    record_cache_lookup(key.family, hit=entry is not None)
    lock_key = f"{lock(key)}:{generation.decode()}"
    token = acquire_lock(client, lock_key) if entry is None or entry.due_for_early_refresh() else None
    if token is None:
        if entry is not None:
            return entry.payload, True  # fresh enough, or another process is refreshing it
        waited = wait_for(client, key, lock_key, is_current)
        return (waited.payload, True) if waited is not None else (load(), False)
    if entry is None and (stored := stored_while_we_waited(client, key, lock_key, token, is_current)):
        return stored.payload, True
    try:
        payload, _ = _load_and_store_page(client, key, generation_key=generation_key, generation=generation, load=load)
        return payload, False
    finally:
        release_lock(lock_key, token)


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
        invalidate(client, delete_keys=[], bump_keys=list(generation_keys))
    except RedisError as error:
        missed_write(error, deletes=[], bumps=list(generation_keys))
