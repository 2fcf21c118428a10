"""List pages (one page of a query) as cached JSON bytes, stamped with their family's generation.

A reader reads the page and its family's generation in one MGET. It stamps what it loads with the
generation it read *before* loading, and a Lua script stores the page only if that generation is
still current, so a page loaded before a concurrent write is never stored where later readers
look. A write bumps the generation (`bump_generations`): O(1) per family, no key scans, and every
page stamped with the old generation is a miss from then on. A writer that can patch the pages
read next does both at once instead (`read_current_pages`, then `replace_pages`: a new generation
and the patched pages under it, by a compare-and-set on the generation it read).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from redis import Redis
from redis.client import Pipeline
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
from courseproject.caching.items import copy_settling_rider
from courseproject.caching.keys import CacheKey, lock
from courseproject.caching.local_copies import Fill, local_copies
from courseproject.caching.repair import missed_write
from courseproject.observability.counters import record_cache_lookup

# Store a page only while its generation is current.
SET_IF_GENERATION = """
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1
"""
# A writer's compare-and-set: if the family's generation (KEYS[1]) is still the one it read (ARGV[1]),
# a new one (made as BUMP_GENERATION makes them; ARGV[2] randomness, ARGV[3] its TTL) and the
# rewritten pages (KEYS[2..]) stored under it, each within what is left of the expiry of the page
# it replaces; per page, ARGV holds compute_ms, expires_at_ms, the longest TTL in ms and the payload.
REPLACE_PAGES_IF_GENERATION = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local now = redis.call('TIME')
local generation = now[1] .. string.format('%06d', now[2]) .. '-' .. ARGV[2]
redis.call('SET', KEYS[1], generation, 'EX', ARGV[3])
for index = 2, #KEYS do
  local at = 4 + (index - 2) * 4
  local ttl = redis.call('PTTL', KEYS[index])
  if ttl > 0 then
    ttl = math.min(ttl, tonumber(ARGV[at + 2]))
    local value = '0|' .. generation .. '|' .. ARGV[at] .. '|' .. ARGV[at + 1] .. '|' .. ARGV[at + 3]
    redis.call('SET', KEYS[index], value, 'PX', ttl)
  end
end
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


def _read_page(
    client: Redis, key: CacheKey, generation_key: str
) -> tuple[bytes | None, bytes, tuple[str, bytes | None] | None] | None:
    """The page and its list's generation in one round trip, with the request's rider (its token
    check) if it has one, and the rider's key and raw value; None if Redis failed."""
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
    rider_read = (rider.key, rider_value[0]) if rider is not None else None
    try:
        return raw, generation if generation is not None else _current_generation(client, generation_key), rider_read
    except RedisError as error:
        gate.failed(error)
        return None


def cached_page(
    key: CacheKey, *, generation_key: str, load: Callable[[], bytes], copied: bool = False
) -> tuple[bytes, bool]:
    """The JSON bytes of a list page and whether they came from Redis (current), else loaded once.
    `copied`: served from this process's copy while it holds one, and kept when read current from
    Redis (local_copies.py; the family's keys must be among keys.copied_key_prefixes)."""
    client = gate.client()
    if client is None:
        return load(), False
    if not copied:
        return _cached_page(client, key, generation_key, load, fill=None)
    if (kept := copy_settling_rider(client, key.name)) is not None:
        record_cache_lookup(key.family, hit=True)
        return kept, True
    with local_copies.filling() as fill:
        return _cached_page(client, key, generation_key, load, fill=fill)


def _cached_page(
    client: Redis, key: CacheKey, generation_key: str, load: Callable[[], bytes], *, fill: Fill | None
) -> tuple[bytes, bool]:
    read = _read_page(client, key, generation_key)
    if read is None:
        return load(), False
    raw, generation, rider_read = read

    def is_current(entry: Entry) -> bool:
        return entry.generation == generation

    entry = decode(raw)
    if entry is not None and not is_current(entry):
        entry = None
    record_cache_lookup(key.family, hit=entry is not None)
    if fill is not None and rider_read is not None and rider_read[1] is not None:
        fill.keep(rider_read[0], rider_read[1], keys=[rider_read[0]])
    lock_key = f"{lock(key)}:{generation.decode()}"
    token = acquire_lock(client, lock_key) if entry is None or entry.due_for_early_refresh() else None
    if token is None:
        if entry is not None:
            if fill is not None:
                # Stops short of the early-refresh window, which only a read in Redis opens.
                fill.keep(
                    key.name,
                    entry.payload,
                    keys=[key.name, generation_key],
                    seconds=entry.seconds_clear_of_early_refresh(),
                )
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


# --- Write-through: a writer patches the pages readers ask for next ----------------------------


@dataclass(frozen=True)
class CurrentPages:
    """A family's generation as a writer read it, and those of its pages that were current under it."""

    generation_key: str
    generation: bytes | None
    entries: dict[str, Entry]  # by key name

    def payload(self, key: CacheKey) -> bytes | None:
        entry = self.entries.get(key.name)
        return entry.payload if entry is not None else None


def read_current_pages(families: dict[str, list[CacheKey]]) -> dict[str, CurrentPages] | None:
    """The pages a writer means to rewrite, with their families' generations (by generation key), in
    one MGET; None when Redis is away (the writer then bumps, as before). Read *before* what the
    writer patches them with, so that replace_pages' compare-and-set catches a write in between."""
    client = gate.client()
    if client is None:
        return None
    names = [name for generation_key, pages in families.items() for name in (generation_key, *(k.name for k in pages))]
    try:
        values = dict(zip(names, client.mget(names), strict=True))
    except RedisError as error:
        gate.failed(error)
        return None
    read = {}
    for generation_key, page_keys in families.items():
        generation = values[generation_key]
        entries = {}
        for key in page_keys:
            entry = decode(values[key.name])
            if generation is not None and entry is not None and entry.generation == generation:
                entries[key.name] = entry
        read[generation_key] = CurrentPages(generation_key=generation_key, generation=generation, entries=entries)
    return read


def replace_pages(replacements: list[tuple[CurrentPages, dict[CacheKey, bytes]]]) -> list[str]:
    """For each family: a new generation, and these pages (patched from entries read) stored under it,
    if the generation is still the one read; one pipelined round trip. Every other page of the
    family goes stale, as after a bump, and a family without pages is simply bumped. A page keeps
    the load time and expiry of the entry it was patched from, so a page loaded while a GSI may have
    lagged is kept no longer than it would have been.

    Returns the generation keys another write changed meanwhile (read and patch again, or bump). A
    failure is repaired like any missed write, by bumping them all."""
    client = gate.writer()
    if client is None or not replacements:
        return []

    def build(pipeline: Pipeline) -> None:
        for current, pages in replacements:
            if current.generation is None or not pages:
                bump_generation(pipeline, current.generation_key)
                continue
            args: list[object] = [current.generation, random.getrandbits(32), settings.CACHE_GENERATION_TTL_SECONDS]
            for key, payload in pages.items():
                base = current.entries[key.name]
                args += [base.compute_ms, base.expires_at_ms, key.ttl * 1000, payload]
            gate.run_script(
                pipeline,
                REPLACE_PAGES_IF_GENERATION,
                keys=[current.generation_key, *(key.name for key in pages)],
                args=args,
            )

    try:
        results = gate.run_pipeline(client, build)
    except RedisError as error:
        missed_write(error, deletes=[], bumps=[current.generation_key for current, _ in replacements])
        return []
    return [current.generation_key for (current, _), stored in zip(replacements, results, strict=True) if not stored]
