"""Single items (a course, its seats, a profile) as cached JSON bytes, stamped with their revision.

Each entity carries the item's DynamoDB `revision`. Services write it through after every change
(`put_entity`), readers fill misses, and a Lua compare-and-set refuses to replace a newer revision
with an older one, so a slow reader cannot undo a write. A deleted entity leaves a tombstone, an id
that does not exist a short-lived negative entry (a later create writes through over it). Many
entities are read in one MGET and the missing ones loaded together (one BatchGetItem).
"""

from __future__ import annotations

from collections.abc import Callable

from redis.client import Pipeline
from redis.exceptions import RedisError

from courseproject.caching import riders
from courseproject.caching.connection import gate
from courseproject.caching.entries import (
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

TOMBSTONE_REVISION = 2**62
# An id that does not exist is remembered this long (a later create writes through over it).
NEGATIVE_TTL_SECONDS = 60
NULL = b"null"
# Store an entity unless a newer revision is there.
SET_IF_NEWER = """
local current = redis.call('GET', KEYS[1])
if current then
  local revision = tonumber(string.match(current, '^(%-?%d+)|'))
  if revision and revision > tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1
"""

EntityLoad = Callable[[], tuple[int, bytes] | None]
EntitiesLoad = Callable[[list[str]], dict[str, tuple[int, bytes]]]


def _store_entities(
    entities: list[tuple[CacheKey, int, bytes, int]],
    *,
    compute_ms: int = 1,
    write_through: bool = False,
    even_when_disabled: bool = False,
) -> None:
    """Compare-and-set by revision, all in one pipelined round trip; entries are (key, revision, payload, ttl).

    A write-through (after a committed change) is always attempted and repaired if it fails; a
    reader's fill respects the breaker and is simply dropped if Redis is away.
    """
    client = gate.writer(even_when_disabled=even_when_disabled) if write_through else gate.client()
    if client is None or not entities:
        return

    def build(pipeline: Pipeline) -> None:
        for key, revision, payload, ttl in entities:
            value = encode(revision=revision, generation=b"-", compute_ms=compute_ms, ttl=ttl, payload=payload)
            gate.run_script(pipeline, SET_IF_NEWER, keys=[key.name], args=[revision, value, ttl])

    try:
        gate.run_pipeline(client, build)
    except RedisError as error:
        if write_through:
            missed_write(error, deletes=[key.name for key, *_ in entities], bumps=[])
        else:
            gate.failed(error)


def put_entity(key: CacheKey, *, revision: int, payload: bytes) -> None:
    """Write-through after a change; an older revision never replaces a newer one."""
    _store_entities([(key, revision, payload, key.ttl)], write_through=True)


def put_entities(entities: list[tuple[CacheKey, int, bytes]], *, even_when_disabled: bool = False) -> None:
    """put_entity for several, in one round trip (`even_when_disabled`: see gate.writer)."""
    _store_entities(
        [(key, revision, payload, key.ttl) for key, revision, payload in entities],
        write_through=True,
        even_when_disabled=even_when_disabled,
    )


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
        missed_write(error, deletes=[key.name], bumps=[])


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
        rider = riders.take()
        try:
            raw, *rider_value = client.mget(key.name, *([rider.key] if rider else []))
        except RedisError as error:
            gate.failed(error)
            client, raw, rider_value = None, None, [None]
        if rider is not None:
            rider.settle(rider_value[0])
        entry = decode(raw)
    if client is None:
        return load_payload(), False

    record_cache_lookup(key.family, hit=entry is not None)
    lock_key = lock(key)
    token = acquire_lock(client, lock_key) if entry is None or entry.due_for_early_refresh() else None
    if token is None:
        if entry is not None:
            return _present(entry.payload), True  # fresh enough, or another process is refreshing it
        waited = wait_for(client, key, lock_key, lambda _: True)
        return (_present(waited.payload), True) if waited is not None else (load_payload(), False)
    if entry is None and (stored := stored_while_we_waited(client, key, lock_key, token, lambda _: True)):
        return _present(stored.payload), True
    try:
        loaded, compute_ms = timed(load)
        if loaded is None:
            _store_entities([(key, 0, NULL, NEGATIVE_TTL_SECONDS)], compute_ms=compute_ms)
            return None, False
        revision, payload = loaded
        _store_entities([(key, revision, payload, key.ttl)], compute_ms=compute_ms)
        return payload, False
    finally:
        release_lock(lock_key, token)


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
        record_cache_lookup(keys[item_id].family, hit=entry is not None)
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
