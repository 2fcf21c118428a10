"""Rate limits that hold across processes: token buckets in the cache Redis, each updated by one
atomic Lua script on Redis's clock, so every process and host counts together.

A bucket holds up to `burst` tokens and refills evenly; a request takes a token or is refused with
the seconds until one is back (DRF then answers 429 with Retry-After and the API's error format).
Besides taking one ("take"), a request can give a token back ("refund"): a sign-in takes a token of
its account's failure bucket before the password hash, atomically (guesses sent in parallel cannot
all pass one look), and a success gives it back.

When Redis is away (its breaker open, or the call failing), a bucket in this process's memory takes
over: nothing fails and no password hash is spent unthrottled, though a limit then holds per process
rather than across them. The apps name the buckets and read their rates from settings on each
request (accounts/throttling.py).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any, Literal

from redis.exceptions import RedisError
from rest_framework.throttling import BaseThrottle

from courseproject.caching import keys
from courseproject.caching.connection import gate
from courseproject.rates import Limit

Mode = Literal["take", "refund"]

# KEYS[1]: the bucket. ARGV: burst, tokens per second, mode. Returns the milliseconds until the
# bucket holds a token: 0 means it held one (and "take" took it). Full buckets expire.
TOKEN_BUCKET = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local burst, per_second, mode = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * per_second)
local wait_ms = 0
if tokens < 1 then wait_ms = math.ceil((1 - tokens) / per_second * 1000) end
if mode == 'take' and wait_ms > 0 then return wait_ms end
if mode == 'refund' then tokens = math.min(burst, tokens + 1) else tokens = tokens - 1 end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / per_second * 1000) + 1000)
return wait_ms
"""


class MemoryBuckets:
    """This process's buckets while Redis is away: the same arithmetic on the monotonic clock,
    the least recently used forgotten past `max_buckets` (rotating emails cannot fill memory)."""

    def __init__(self, max_buckets: int = 10_000) -> None:
        self._lock = threading.Lock()
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._max_buckets = max_buckets

    def use(self, key: str, limit: Limit, mode: Mode) -> float:
        now = time.monotonic()
        with self._lock:
            tokens, at = self._buckets.pop(key, (float(limit.burst), now))
            tokens = min(float(limit.burst), tokens + max(0.0, now - at) * limit.per_second)
            wait_seconds = 0.0 if tokens >= 1 else (1 - tokens) / limit.per_second
            if mode == "refund":
                tokens = min(float(limit.burst), tokens + 1)
            elif wait_seconds == 0:
                tokens -= 1
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > self._max_buckets:
                self._buckets.popitem(last=False)
        return wait_seconds

    def __len__(self) -> int:
        return len(self._buckets)

    def clear(self) -> None:
        with self._lock:
            self._buckets.clear()


memory_buckets = MemoryBuckets()


def use_bucket(scope: str, ident: str, limit: Limit, *, mode: Mode = "take") -> float:
    """Seconds until the bucket holds a token; 0 when it held one (and `take` took it)."""
    key = keys.throttle_bucket(scope, ident)
    client = gate.limiter()
    if client is not None:
        try:
            wait_ms = gate.run_script(client, TOKEN_BUCKET, keys=[key], args=[limit.burst, limit.per_second, mode])
            return int(wait_ms) / 1000
        except RedisError as error:
            gate.failed(error)
    return memory_buckets.use(key, limit, mode)


class BucketThrottle(BaseThrottle):
    """A DRF throttle over one token bucket of `scope` per client, user or email: subclasses name it
    (`bucket`: the ident and the limit, or None to let the request through untouched)."""

    scope: str
    mode: Mode = "take"

    def __init__(self) -> None:
        self.seconds_to_wait: float | None = None

    def bucket(self, request: Any, view: Any) -> tuple[str, Limit] | None:
        raise NotImplementedError

    def allow_request(self, request: Any, view: Any) -> bool:
        bucket = self.bucket(request, view)
        if bucket is None:
            return True
        ident, limit = bucket
        self.seconds_to_wait = use_bucket(self.scope, ident, limit, mode=self.mode)
        return self.seconds_to_wait == 0

    def wait(self) -> float | None:
        return self.seconds_to_wait
