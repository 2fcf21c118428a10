"""What a list page's read yields (id_pages.py), and how a page served whole is kept as this process's
local copy (local_copies.py)."""

from __future__ import annotations

from dataclasses import dataclass

from redis import Redis

from courseproject.caching.entries import Entry
from courseproject.caching.items import (
    ItemEntries,
    Payloads,
    copy_settling_rider,
    count_lookups,
    entry_names,
    item_copy,
)
from courseproject.caching.keys import CacheKey
from courseproject.caching.local_copies import Fill
from courseproject.observability.counters import record_cache_lookup

# A stored page as a reader uses it: its ids and its next cursor as JSON.
PageContents = tuple[list[str], bytes]


@dataclass(frozen=True)
class PageRead:
    """What a page's script read: the generation, the page (its entry and contents) if current, its
    entries' payloads, and the rider's raw value if the request had one."""

    generation: bytes
    page: Entry | None
    stored: PageContents | None
    payloads: Payloads
    rider: tuple[str, bytes | None] | None
    # Whether to refresh it now (no page, or XFetch's roll), rolled once per read.
    due: bool


@dataclass(frozen=True)
class ListedPage:
    """A list page's response body; `ids` are its items' ids when the cache served it, else None."""

    body: bytes
    ids: list[str] | None


@dataclass(frozen=True)
class CopiedPage:
    """A page served whole from Redis, as this process keeps it (local_copies.py)."""

    listed: ListedPage
    payloads: Payloads  # for the hit counters


def served_from_copy(client: Redis, key: CacheKey, items: ItemEntries) -> ListedPage | None:
    """The page from this process's copy, its rider settled from a copy too (or read and kept)."""
    copied: CopiedPage | None = copy_settling_rider(client, key.name)
    if copied is None:
        return None
    record_cache_lookup(key.family, hit=True)
    count_lookups(items, copied.payloads)
    return copied.listed


def keep_copy(
    fill: Fill,
    key: CacheKey,
    *,
    generation_key: str,
    items: ItemEntries,
    read: PageRead,
    listed: ListedPage,
    merged: dict[str, bytes],
) -> None:
    """Keep a page served whole from Redis until one of its keys changes (its generation, the page,
    an entry of an item on it); it stops short of the page's early-refresh window, which only a read
    in Redis opens. Each of its items (`merged`, by id) is kept too, as a detail's copy: students
    open the courses of the page they just read. Their entries outlive the page (whoever loads a page
    reloads the entries that would expire first), so the page's window bounds theirs. The rider read
    with it is kept too."""
    if read.page is None:
        return
    ids = listed.ids or []
    names = [entry_names(items, item_id) for item_id in ids]
    entry_keys = [name for item_names in names for name in item_names]
    item_copies = [
        item_copy(item_names, merged[item_id], items.pieces(read.payloads, index))
        for index, (item_id, item_names) in enumerate(zip(ids, names, strict=True))
        if item_id in merged
    ]
    fill.keep_all(
        [(key.name, CopiedPage(listed, read.payloads), [generation_key, key.name, *entry_keys]), *item_copies],
        seconds=read.page.seconds_clear_of_early_refresh(),
    )
    if read.rider is not None and read.rider[1] is not None:
        fill.keep(read.rider[0], read.rider[1], keys=[read.rider[0]])
