"""Items served from several entries by id (a course and its seats), spliced as bytes, never decoded.

An item is the merge of one entry per family: JSON objects with disjoint fields, written through and
compare-and-set by revision as any entity (entities.py), so an edit rewrites one entry and enrollments
another. A read gets every entry of its ids in one MGET (or inside a page's script, id_pages.py); the
absent ones are loaded together with one consistent BatchGetItem and stored by revision. An id whose
entry is a tombstone or marks it absent is left out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.conf import settings
from redis import Redis
from redis.exceptions import RedisError

from courseproject.caching import riders
from courseproject.caching.connection import gate
from courseproject.caching.entities import NULL, fill_entities
from courseproject.caching.entries import Entry, decode
from courseproject.caching.keys import CacheKey
from courseproject.caching.local_copies import local_copies
from courseproject.observability.counters import record_cache_lookup

# Per id found: its revision and each family's payload, read consistently.
EntriesLoad = Callable[[list[str]], dict[str, tuple[int, tuple[bytes, ...]]]]
# Per id, each family's payload in family order (None: not cached).
Payloads = list[bytes | None]


@dataclass(frozen=True)
class ItemEntries:
    """Where items live: per id one entry of each family, whose JSON objects merge into the item, and
    how to load absent ones."""

    families: tuple[Callable[[str], CacheKey], ...]
    load: EntriesLoad

    @property
    def width(self) -> int:
        return len(self.families)

    def blank_keys(self) -> tuple[CacheKey, ...]:
        """Each family's key of an empty id: its name is the prefix the ids are appended to. Read on
        every cached list hit, so built once per key prefix (settings may change it, as tests do)."""
        return _blank_keys(self.families, settings.CACHE_KEY_PREFIX)

    def keys_of(self, item_id: str) -> list[CacheKey]:
        return [family(item_id) for family in self.families]

    def pieces(self, values: list, index: int) -> list:
        """The `index`-th id's share of a flat list with one value per id and family."""
        return values[index * self.width : (index + 1) * self.width]


@cache
def _blank_keys(families: tuple[Callable[[str], CacheKey], ...], prefix: str) -> tuple[CacheKey, ...]:
    return tuple(family("") for family in families)


def merge_objects(pieces: list[bytes]) -> bytes:
    """JSON objects with disjoint fields as one, spliced as bytes: `{"a":1}`, `{"b":2}` -> `{"a":1,"b":2}`."""
    merged = pieces[0]
    for piece in pieces[1:]:
        if len(piece) > 2:  # an empty object adds nothing (and no comma)
            merged = merged[:-1] + b"," + piece[1:]
    return merged


def count_lookups(items: ItemEntries, payloads: Payloads) -> None:
    """Hits and misses per family, one counter update each."""
    for position, blank in enumerate(items.blank_keys()):
        looked_up = payloads[position :: items.width]
        misses = looked_up.count(None)
        if misses:
            record_cache_lookup(blank.family, hit=False, count=misses)
        if len(looked_up) > misses:
            record_cache_lookup(blank.family, hit=True, count=len(looked_up) - misses)


def read_entries(client: Redis | None, items: ItemEntries, ids: list[str]) -> list[Entry | None]:
    """Every entry of these ids, in one MGET (all absent if Redis failed)."""
    if client is None or not ids:
        return [None] * (len(ids) * items.width)
    try:
        raw = client.mget([key.name for item_id in ids for key in items.keys_of(item_id)])
    except RedisError as error:
        gate.failed(error)
        return [None] * (len(ids) * items.width)
    return [decode(value) for value in raw]


def load_into(items: ItemEntries, ids: list[str], payloads: Payloads, wanted: list[str]) -> int:
    """Load `wanted` (one consistent batch read), store their entries by revision and put them into
    `payloads` (in place); an id the table does not have is marked absent. Returns how many entries
    were written."""
    loaded = items.load(wanted)
    entries = [
        (key, revision, payload)
        for item_id, (revision, pieces) in loaded.items()
        for key, payload in zip(items.keys_of(item_id), pieces, strict=True)
    ]
    fill_entities(entries)
    positions = {item_id: index for index, item_id in enumerate(ids)}
    for item_id in wanted:
        start = positions[item_id] * items.width
        payloads[start : start + items.width] = loaded[item_id][1] if item_id in loaded else [NULL] * items.width
    return len(entries)


def merged_items(items: ItemEntries, ids: list[str], payloads: Payloads) -> dict[str, bytes]:
    """Each item as one JSON object, in the order of `ids`, after loading the absent entries; deleted
    or unknown ids left out."""
    width = items.width
    if None in payloads:
        missing = [item_id for index, item_id in enumerate(ids) if None in items.pieces(payloads, index)]
        load_into(items, ids, payloads, missing)
    merged = {}
    for index, item_id in enumerate(ids):
        pieces = payloads[index * width : index * width + width]
        if NULL not in pieces:
            merged[item_id] = merge_objects(pieces)
    return merged


def _mget_settling_rider(client: Redis, names: list[str]) -> tuple[list[bytes | None], tuple[str, bytes | None] | None]:
    """The values of `names` in one MGET with the request's rider, if no read took it yet, settled
    before they are used (all absent if Redis failed); and the rider's key and raw value."""
    rider = riders.take()
    try:
        values = client.mget([*names, rider.key] if rider else names)
    except RedisError as error:
        gate.failed(error)
        values = [None] * (len(names) + (1 if rider else 0))
    if rider is None:
        return values, None
    rider_value = values.pop()
    rider.settle(rider_value)
    return values, (rider.key, rider_value)


def cached_items(ids: list[str], *, items: ItemEntries) -> dict[str, bytes]:
    """Items by id as JSON objects (deleted or unknown ones left out): from this process's copies
    where it holds them, the others' entries in one MGET, with the request's rider if no read took it
    yet, then kept; the absent ones loaded together and stored."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        return {}
    client = gate.client()
    width = items.width
    payloads: Payloads = [None] * (len(ids) * width)
    if client is not None:
        wanted: list[int] = []
        copies: list[CopiedItem | None] = local_copies.lookup_all([_copy_name(items, item_id) for item_id in ids])
        for index, copied in enumerate(copies):
            if copied is None:
                wanted.append(index)
            else:
                payloads[index * width : index * width + width] = copied.payloads
        if wanted:
            _read_and_keep(client, items, [ids[index] for index in wanted], wanted, payloads)
        count_lookups(items, payloads)
    return merged_items(items, ids, payloads)


def _read_and_keep(
    client: Redis, items: ItemEntries, ids: list[str], positions: list[int], payloads: Payloads
) -> dict[str, bytes]:
    """The entries of `ids` in one MGET (with the request's rider, if no read took it) into `payloads`
    at their `positions`. Each item found whole and clear of early refresh is kept as this process's
    copy; returns those, merged, by id."""
    width = items.width
    whole: dict[str, bytes] = {}
    with local_copies.filling() as fill:
        names = [entry_names(items, item_id) for item_id in ids]
        values, rider = _mget_settling_rider(client, [name for item_names in names for name in item_names])
        if rider is not None and rider[1] is not None:
            fill.keep(rider[0], rider[1], keys=[rider[0]])
        entries = [decode(value) for value in values]
        for item_id, item_names, position, start in zip(
            ids, names, positions, range(0, len(entries), width), strict=True
        ):
            pieces = entries[start : start + width]
            found = [entry.payload if entry is not None else None for entry in pieces]
            payloads[position * width : position * width + width] = found
            if all(
                entry is not None and entry.payload != NULL and not entry.due_for_early_refresh() for entry in pieces
            ):
                whole[item_id] = merge_objects(found)
                fill.keep_all(
                    [item_copy(item_names, whole[item_id], found)],
                    seconds=min(entry.seconds_clear_of_early_refresh() for entry in pieces),
                )
    return whole


def copy_settling_rider(client: Redis, name: str) -> Any | None:
    """This process's copy named `name` (local_copies.py); with it, the request's rider settled from
    its own copy, looked up after the same drain, or from a GET that is then kept. Without it, the
    rider is left for the read that follows."""
    rider = riders.peek()
    if rider is None:
        return local_copies.lookup(name)
    copied, rider_copy = local_copies.lookup_all([name, rider.key])
    if copied is None:
        return None
    riders.take()
    if rider_copy is None:
        with local_copies.filling() as fill:
            try:
                rider_copy = client.get(rider.key)
            except RedisError as error:
                gate.failed(error)  # the rider settles from DynamoDB
            else:
                if rider_copy is not None:
                    fill.keep(rider.key, rider_copy, keys=[rider.key])
    rider.settle(rider_copy)
    return copied


@dataclass(frozen=True)
class CopiedItem:
    """An item served whole from Redis, as this process keeps it (local_copies.py)."""

    merged: bytes
    payloads: Payloads  # for the hit counters


def entry_names(items: ItemEntries, item_id: str) -> list[str]:
    """The keys of an item's entries, one per family."""
    return [blank.name + item_id for blank in items.blank_keys()]


def _copy_name(items: ItemEntries, item_id: str) -> str:
    """An item's copy is named by its first entry's key."""
    return items.blank_keys()[0].name + item_id


def item_copy(names: list[str], merged: bytes, payloads: Payloads) -> tuple[str, CopiedItem, list[str]]:
    """What `Fill.keep_all` takes to keep an item read whole inside the fill from its entries' keys
    `names` (entry_names), as `cached_item` and `cached_items` find it."""
    return names[0], CopiedItem(merged, payloads), names


def cached_item(items: ItemEntries, item_id: str) -> bytes | None:
    """One item, from this process's copy (no round trip), or from one MGET of its entries with the
    request's rider, then kept (local_copies.py). None, the rider settled, when an entry is absent,
    a tombstone or due for early refresh, or Redis is off or away: the caller's usual path serves it."""
    client = gate.client()
    if client is None:
        return None
    copied: CopiedItem | None = copy_settling_rider(client, _copy_name(items, item_id))
    if copied is not None:
        count_lookups(items, copied.payloads)
        return copied.merged
    payloads: Payloads = [None] * items.width
    whole = _read_and_keep(client, items, [item_id], [0], payloads)
    if item_id not in whole:
        return None
    count_lookups(items, payloads)
    return whole[item_id]
