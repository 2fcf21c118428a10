"""List pages that hold ids, served with their items' entries (items.py) in one Redis round trip.

A page of ids (`<id> <id> ...` and the next cursor's JSON) is stamped with its list's generation
and stored by pages.py's rules: the generation is read before loading, the page is stored only
while that generation is current, and a page loaded right after a write to its list is kept only
for the GSI's settle window. Only a change of membership or order bumps the generation; an edit of
an item rewrites that item's entries only, and the next read of every page that lists it shows it.

A read is one Lua script (`READ_ID_PAGE`): the generation, the page, the request's rider, and, if
the page is current, every entry of every id on it. The script builds the entries' keys from
their families' prefixes, keys it is not handed in KEYS: fine on one Redis (or ElastiCache with
cluster mode disabled), not on Redis Cluster. Whoever (re)loads a page also reloads the entries
that would expire before the page does, so the entries of a page in use do not expire under it.

A page served whole is also kept as this process's local copy (page_copies.py, local_copies.py)
and served from it, with no round trip, until Redis reports a change to one of its keys.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import orjson
from redis import Redis
from redis.exceptions import RedisError

from courseproject.caching import riders
from courseproject.caching.connection import gate
from courseproject.caching.entries import (
    Entry,
    acquire_lock,
    decode,
    payload_of,
    release_lock,
    stored_while_we_waited,
    wait_for,
)
from courseproject.caching.items import ItemEntries, Payloads, count_lookups, load_into, merged_items, read_entries
from courseproject.caching.keys import CacheKey, lock
from courseproject.caching.local_copies import local_copies
from courseproject.caching.page_copies import ListedPage, PageContents, PageRead, keep_copy, served_from_copy
from courseproject.caching.pages import _current_generation, _load_and_store_page
from courseproject.observability.counters import record_cache_lookup

# KEYS: the list's generation, the page, the rider's key (optional); ARGV: each entry family's key
# prefix. Returns {generation, page, rider, then per id on a current page each family's raw entry}.
# The entries come back whole, in one MGET, and the web process strips their headers (~10 us): cutting
# 40 payloads out in Lua, a new Lua string each, took the script 140 to 155 us on Redis, the one core
# every web process shares, against 80 to 95 us now (a page of 20 courses, the benchmark's data).
READ_ID_PAGE = """
local generation = redis.call('GET', KEYS[1])
local page = redis.call('GET', KEYS[2])
local rider = false
if KEYS[3] then rider = redis.call('GET', KEYS[3]) end
if not generation or not page then return {generation, page, rider} end
local first = string.find(page, '|', 1, true)
if not first or string.sub(page, first + 1, first + #generation + 1) ~= generation .. '|' then
  return {generation, page, rider}
end
local ids = string.match(page, '^[^|]*|[^|]*|[^|]*|[^|]*|([^\\n]*)')
if not ids then return {generation, page, rider} end
local names = {}
for id in string.gmatch(ids, '%S+') do
  for _, prefix in ipairs(ARGV) do names[#names + 1] = prefix .. id end
end
if #names == 0 then return {generation, page, rider} end
local reply = redis.call('MGET', unpack(names))
table.insert(reply, 1, rider)
table.insert(reply, 1, page)
table.insert(reply, 1, generation)
return reply
"""


@dataclass(frozen=True)
class IdPage:
    """A page as its query found it: the ids in order and the cursor to the next page."""

    ids: list[str]
    next_cursor: str | None

    def encode(self) -> bytes:
        return " ".join(self.ids).encode() + b"\n" + orjson.dumps(self.next_cursor)

    def contents(self) -> PageContents:
        """As a stored page reads back (`_split`): the ids and the cursor's JSON."""
        return self.ids, orjson.dumps(self.next_cursor)


@dataclass(frozen=True)
class RefreshedPage:
    """What `refresh_id_page` did: the page it loaded, whether it stored it, how many entries it wrote."""

    page: IdPage
    stored: bool
    entries: int


def _split(payload: bytes) -> PageContents | None:
    """A stored page's ids and its next cursor as JSON, or None if it is not a page of ids."""
    ids, separator, cursor_json = payload.partition(b"\n")
    return (ids.decode().split(), cursor_json) if separator else None


def _listed(items: ItemEntries, stored: PageContents, payloads: Payloads) -> ListedPage:
    return _listed_from(stored, merged_items(items, stored[0], payloads))


def _listed_from(stored: PageContents, merged: dict[str, bytes]) -> ListedPage:
    ids, cursor_json = stored
    body = b'{"results":[' + b",".join(merged.values()) + b'],"next_cursor":' + cursor_json + b"}"
    return ListedPage(body=body, ids=ids)


def _cached_payloads(client: Redis | None, items: ItemEntries, ids: list[str]) -> Payloads:
    payloads = [entry.payload if entry is not None else None for entry in read_entries(client, items, ids)]
    count_lookups(items, payloads)
    return payloads


def _entries_for_a_new_page(
    client: Redis, items: ItemEntries, ids: list[str], *, live_until_ms: int, for_reader: bool
) -> tuple[Payloads, int]:
    """The entries of a page being (re)loaded: those absent or expiring before `live_until_ms` are
    loaded from DynamoDB and stored, so they outlive the page that names them. Returns them and how
    many entries were written; only a reader's lookups are counted (warming's are no traffic)."""
    entries = read_entries(client, items, ids)
    payloads = [entry.payload if entry is not None else None for entry in entries]
    if for_reader:
        count_lookups(items, payloads)
    reload = [
        item_id
        for index, item_id in enumerate(ids)
        if any(entry is None or entry.expires_at_ms < live_until_ms for entry in items.pieces(entries, index))
    ]
    return payloads, load_into(items, ids, payloads, reload) if reload else 0


def _read_page(client: Redis, key: CacheKey, generation_key: str, items: ItemEntries) -> PageRead | None:
    """The page and its entries in one round trip with the request's rider (settled here, before
    anything read is used); None if Redis failed."""
    rider = riders.take()
    try:
        generation, raw_page, rider_value, *raw_entries = gate.run_script(
            client,
            READ_ID_PAGE,
            keys=[generation_key, key.name, *([rider.key] if rider else [])],
            args=[blank.name for blank in items.blank_keys()],
        )
    except RedisError as error:
        gate.failed(error)
        if rider is not None:
            rider.settle(None)
        return None
    if rider is not None:
        rider.settle(rider_value)
    rider_read = (rider.key, rider_value) if rider is not None else None
    payloads = [payload_of(raw) for raw in raw_entries]
    if generation is None:
        try:
            return PageRead(_current_generation(client, generation_key), None, None, [], rider_read, due=True)
        except RedisError as error:
            gate.failed(error)
            return None
    page = decode(raw_page)
    stored = _split(page.payload) if page is not None and page.generation == generation else None
    due = page is None or page.due_for_early_refresh()
    if stored is None or len(payloads) != len(stored[0]) * items.width:
        return PageRead(generation, page, None, [], rider_read, due=due)
    return PageRead(generation, page, stored, payloads, rider_read, due=due)


def _load_and_store(
    client: Redis,
    key: CacheKey,
    *,
    generation_key: str,
    generation: bytes,
    items: ItemEntries,
    load_ids: Callable[[], IdPage],
    for_reader: bool,
) -> tuple[RefreshedPage, Payloads]:
    """Load the page's ids and its entries (entries first, so that readers who find the page find its
    entries too), then store the page under the generation read before loading."""
    loaded: list[tuple[IdPage, Payloads, int]] = []

    def load() -> bytes:
        page = load_ids()
        live_until_ms = int(time.time() * 1000) + key.ttl * 1000
        loaded.append(
            (
                page,
                *_entries_for_a_new_page(client, items, page.ids, live_until_ms=live_until_ms, for_reader=for_reader),
            )
        )
        return page.encode()

    _, stored = _load_and_store_page(client, key, generation_key=generation_key, generation=generation, load=load)
    page, payloads, entries = loaded[-1]
    return RefreshedPage(page=page, stored=stored, entries=entries), payloads


def _read_through_copies(
    client: Redis, key: CacheKey, generation_key: str, items: ItemEntries
) -> ListedPage | PageRead | None:
    """The page as this process's copy serves it (or as it is kept now, read whole from Redis), else
    what Redis holds for the usual path (None if Redis failed)."""
    if (copied := served_from_copy(client, key, items)) is not None:
        return copied
    with local_copies.filling() as fill:
        read = _read_page(client, key, generation_key, items)
        if read is None or read.page is None or read.stored is None or read.due or None in read.payloads:
            return read  # a miss, a refresh, or an entry to load from DynamoDB: the usual path
        record_cache_lookup(key.family, hit=True)
        count_lookups(items, read.payloads)
        merged = merged_items(items, read.stored[0], read.payloads)
        listed = _listed_from(read.stored, merged)
        keep_copy(fill, key, generation_key=generation_key, items=items, read=read, listed=listed, merged=merged)
        return listed


def cached_id_page(
    key: CacheKey,
    *,
    generation_key: str,
    items: ItemEntries,
    load_ids: Callable[[], IdPage],
    load_uncached: Callable[[], bytes],
) -> ListedPage:
    """A list page's JSON body (`{"results": [...], "next_cursor": ...}`) from its page of ids and its
    items' entries: one Redis round trip when all are cached. Without Redis (off, or away), the
    page as `load_uncached` renders it from its query."""
    client = gate.client()
    read = _read_through_copies(client, key, generation_key, items) if client is not None else None
    if isinstance(read, ListedPage):
        return read
    if read is None:
        return ListedPage(body=load_uncached(), ids=None)
    generation, stored, payloads = read.generation, read.stored, read.payloads

    def is_current(entry: Entry) -> bool:
        return entry.generation == generation and _split(entry.payload) is not None

    record_cache_lookup(key.family, hit=stored is not None)
    lock_key = f"{lock(key)}:{generation.decode()}"
    token = acquire_lock(client, lock_key) if read.due else None
    if token is None:
        if stored is not None:  # fresh enough, or another process is refreshing it
            count_lookups(items, payloads)
            return _listed(items, stored, payloads)
        waited = wait_for(client, key, lock_key, is_current)
        # Without a page from the loader (it gave up or failed), load it ourselves, without storing it.
        stored = load_ids().contents() if waited is None else _split(waited.payload)
        return _listed(items, stored, _cached_payloads(client, items, stored[0]))
    if stored is None and (entry := stored_while_we_waited(client, key, lock_key, token, is_current)):
        stored = _split(entry.payload)
        return _listed(items, stored, _cached_payloads(client, items, stored[0]))
    try:
        refreshed, payloads = _load_and_store(
            client,
            key,
            generation_key=generation_key,
            generation=generation,
            items=items,
            load_ids=load_ids,
            for_reader=True,
        )
    finally:
        release_lock(lock_key, token)
    return _listed(items, refreshed.page.contents(), payloads)


def refresh_id_page(
    key: CacheKey, *, generation_key: str, items: ItemEntries, load_ids: Callable[[], IdPage]
) -> RefreshedPage:
    """Load a page and store it whatever is cached now, with the entries it names that are absent or
    would expire before it (cache warming)."""
    client = gate.client()
    if client is None:
        return RefreshedPage(page=load_ids(), stored=False, entries=0)
    try:
        generation = _current_generation(client, generation_key)
    except RedisError as error:
        gate.failed(error)
        return RefreshedPage(page=load_ids(), stored=False, entries=0)
    refreshed, _ = _load_and_store(
        client,
        key,
        generation_key=generation_key,
        generation=generation,
        items=items,
        load_ids=load_ids,
        for_reader=False,
    )
    return refreshed
