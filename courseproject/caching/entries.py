"""What a cached value looks like in Redis, when to refresh it early, and who loads it on a miss.

An entry is `revision|generation|compute_ms|expires_at_ms|payload`: the payload is the response's
ready JSON bytes, the revision (entities) or generation (pages) says how current it is, and the
load time and expiry drive XFetch's early refresh: a reader refreshes a value before it expires
with a probability that rises as expiry nears, weighted by how long the value took to load, so a
popular key is reloaded by one reader ahead of time instead of by all of them at expiry.

Stampedes: one process (a Redis lock per key and generation, SET NX PX) loads a missing or
early-expiring value; others poll briefly for it, stop as soon as the lock is gone, and then load
it themselves without storing. Waits are bounded (CACHE_LOCK_WAIT_SECONDS), locks expire by
themselves and are released on error, and nothing recurses.
"""

from __future__ import annotations

import math
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from redis import Redis
from redis.exceptions import RedisError

from courseproject.caching.connection import gate
from courseproject.caching.keys import CacheKey

ResultT = TypeVar("ResultT")

# XFetch's beta: above 1 favours earlier recomputation.
XFETCH_BETA = 1.0
EARLY_REFRESH_MARGIN_MS = 2_000
LOCK_TTL_MS = 5_000
LOCK_POLL_SECONDS = 0.005
RELEASE_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


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

    def seconds_clear_of_early_refresh(self) -> float:
        """How long XFetch will almost surely not refresh it (its roll needs e^-10 within 10 load
        times of expiry), and at most until 2 s before expiry: how long a local copy may stand in."""
        margin_ms = max(EARLY_REFRESH_MARGIN_MS, 10 * self.compute_ms * XFETCH_BETA)
        return (self.expires_at_ms - margin_ms) / 1000 - time.time()


def encode(*, revision: int, generation: bytes, compute_ms: int, ttl: int, payload: bytes) -> bytes:
    expires_at_ms = int(time.time() * 1000) + ttl * 1000
    return b"%d|%s|%d|%d|" % (revision, generation, compute_ms, expires_at_ms) + payload


# The header's fields before the payload: revision, generation, compute_ms, expires_at_ms.
HEADER_FIELDS = 4


def decode(raw: bytes | None) -> Entry | None:
    if not raw:
        return None
    try:
        revision, generation, compute_ms, expires_at_ms, payload = raw.split(b"|", HEADER_FIELDS)
        return Entry(int(revision), generation, int(compute_ms), int(expires_at_ms), payload)
    except ValueError:
        return None  # written by another schema; treated as a miss and overwritten


def payload_of(raw: bytes | None) -> bytes | None:
    """An entry's payload without decoding the rest of its header (a cached list page strips 40 at once)."""
    if not raw:
        return None
    pieces = raw.split(b"|", HEADER_FIELDS)
    return pieces[HEADER_FIELDS] if len(pieces) > HEADER_FIELDS else None


def timed(load: Callable[[], ResultT]) -> tuple[ResultT, int]:
    started = time.perf_counter()
    result = load()
    return result, max(1, int((time.perf_counter() - started) * 1000))


def acquire_lock(client: Redis, lock_key: str) -> str | None:
    token = uuid.uuid4().hex
    try:
        return token if client.set(lock_key, token, nx=True, px=LOCK_TTL_MS) else None
    except RedisError as error:
        gate.failed(error)
        return None


def release_lock(lock_key: str, token: str) -> None:
    client = gate.client()
    if client is None:
        return  # the lock expires by itself
    try:
        gate.run_script(client, RELEASE_LOCK, keys=[lock_key], args=[token])
    except RedisError as error:
        gate.failed(error)


def stored_while_we_waited(
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
        release_lock(lock_key, token)
        return entry
    return None


def wait_for(client: Redis, key: CacheKey, lock_key: str, is_current: Callable[[Entry], bool]) -> Entry | None:
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
