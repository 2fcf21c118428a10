"""Counters of every process, added up in Redis: cache lookups by key family, request latency and status.

Each process counts in memory; a daemon thread adds its counts to one Redis hash every second
(one pipelined round trip). Counting costs a request no round trip, an idle worker's counts still
arrive, and the hash holds the totals of all gunicorn workers on all instances. /metrics reads it,
and the Celery metrics task pushes it to CloudWatch (cloudwatch.py).

Request latency is a histogram with fixed buckets, which sum across processes exactly (percentiles
of separate processes would not).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import threading
import time
from collections import Counter

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django_redis import get_redis_connection
from redis import Redis
from redis.exceptions import RedisError

from courseproject.breaker import CircuitBreaker

logger = logging.getLogger(__name__)

FLUSH_INTERVAL_SECONDS = 1.0
# Upper bounds of the latency buckets, in milliseconds; the last bucket is everything slower.
LATENCY_BUCKETS_MS = (1, 2, 3, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000)

_lock = threading.Lock()
_pending: Counter[str] = Counter()
_flusher_pid: int | None = None
# Writes answered writes_busy (enrollments/admission.py); workers watch it (background/yielding.py).
REFUSED_WRITES = "writes:refused"
# Key families the cache reports (registered by it), so that /metrics lists them before their first lookup.
_families: list[str] = []
# Quiet: the cache (courseproject/caching/connection.py) reports the same Redis's outages.
_breaker = CircuitBreaker(name="Redis", open_seconds_setting="CACHE_BREAKER_SECONDS", consequence="")


def _reset_in_child() -> None:
    # A child forked while another thread held the lock would wait on it forever.
    global _lock
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_reset_in_child)


@receiver(setting_changed)
def _reset_on_settings_change(setting: str, **_: object) -> None:
    if setting in {"CACHES", "CACHE_ENABLED", "REDIS_URL"}:
        _breaker.reset()


def counters_key() -> str:
    """The Redis hash of every process's counts (on the cache Redis, with the cache's key prefix)."""
    return f"{settings.CACHE_KEY_PREFIX}:v1:metrics:counters"


def counters_redis() -> Redis | None:
    """The cache Redis, unless caching is off or Redis failed a moment ago."""
    if not settings.CACHE_ENABLED or _breaker.is_open():
        return None
    return get_redis_connection("default")


def report_families(*families: str) -> None:
    """Key families to list at /metrics (with zero counts until their first lookup)."""
    _families.extend(family for family in families if family not in _families)


def _ensure_flusher() -> None:
    if _flusher_pid != os.getpid():
        _start_flusher()


def record_cache_lookup(family: str, *, hit: bool, count: int = 1) -> None:
    """`count` lookups of one family and outcome at once (the entries a list page read)."""
    _ensure_flusher()
    with _lock:
        _pending[f"cache:{family}:{'hit' if hit else 'miss'}"] += count


def record_local_copy_lookups(*, hits: int, misses: int) -> None:
    """Lookups of this process's own copies (courseproject/caching/local_copies.py): a hit is served
    without a Redis round trip. A flat count of hits while cache hits go on means copies are off."""
    _ensure_flusher()
    with _lock:
        _pending["copies:hit"] += hits
        _pending["copies:miss"] += misses


def record_request(*, duration_ms: float, status: int) -> None:
    _ensure_flusher()
    bucket = next((bound for bound in LATENCY_BUCKETS_MS if duration_ms <= bound), "inf")
    with _lock:
        _pending[f"request:bucket:{bucket}"] += 1
        _pending["request:count"] += 1
        _pending["request:sum_us"] += round(duration_ms * 1000)
        _pending[f"request:status:{status // 100}xx"] += 1


def record_write_refused() -> None:
    """A write was answered writes_busy: its process's write slots and queue were full, or it waited too long."""
    _ensure_flusher()
    with _lock:
        _pending[REFUSED_WRITES] += 1


def record_waitlist_outcome(outcome: str, *, lag_ms: float | None = None) -> None:
    """A waitlist place ended (promoted, waitlist_skipped, waitlist_expired); a promotion's lag is how
    long its seat had been free."""
    _ensure_flusher()
    with _lock:
        _pending[f"waitlist:{outcome}"] += 1
        if lag_ms is not None:
            _pending["waitlist:lag_ms_sum"] += round(lag_ms)


def _start_flusher() -> None:
    """One flushing thread per process; started again in a forked child, which has no threads."""
    global _flusher_pid
    with _lock:
        if _flusher_pid == os.getpid():
            return
        _flusher_pid = os.getpid()
        _pending.clear()  # counts inherited from a parent were the parent's to flush

    def flush_forever() -> None:
        while True:
            time.sleep(FLUSH_INTERVAL_SECONDS)
            try:
                flush()
            except Exception:  # a monitoring thread must never die
                logger.exception("Flushing metrics failed")

    threading.Thread(target=flush_forever, name="metrics-flusher", daemon=True).start()
    atexit.register(_flush_at_exit)


def _flush_at_exit() -> None:
    """The last second of counts of a worker that is shutting down (recycled, deployed, stopped)."""
    with contextlib.suppress(Exception):
        flush()


def flush() -> None:
    """Add this process's counts to the shared hash; kept for the next try if Redis is away."""
    with _lock:
        counts = dict(_pending)
        _pending.clear()
    if not counts:
        return
    client = counters_redis()
    try:
        if client is None:
            raise RedisError("Redis unavailable")
        pipeline = client.pipeline(transaction=False)
        for field, count in counts.items():
            pipeline.hincrby(counters_key(), field, count)
        pipeline.execute()
    except RedisError as error:
        if client is not None:
            _breaker.trip(error)
        with _lock:
            _pending.update(counts)


def totals() -> dict[str, int]:
    """Every counter of every process, by field name (cache:<family>:<outcome>, request:...)."""
    flush()
    result = {f"cache:{family}:{outcome}": 0 for family in _families for outcome in ("hit", "miss")}
    client = counters_redis()
    if client is None:
        return result
    try:
        stored = client.hgetall(counters_key())
    except RedisError as error:
        _breaker.trip(error)
        return result
    for field, value in stored.items():
        result[field.decode() if isinstance(field, bytes) else field] = int(value)
    return result


def total(field: str) -> int | None:
    """One counter of every process, without this process's unflushed counts (one HGET: cheap
    enough for a worker's once-a-second check); None when Redis cannot say."""
    client = counters_redis()
    if client is None:
        return None
    try:
        value = client.hget(counters_key(), field)
    except RedisError as error:
        _breaker.trip(error)  # the next checks skip Redis instead of waiting out its timeout
        return None
    return int(value or 0)


def cache_counts(counters: dict[str, int]) -> dict[tuple[str, str], int]:
    return {
        (field.split(":")[1], field.split(":")[2]): value
        for field, value in counters.items()
        if field.startswith("cache:")
    }


def hit_rate(counters: dict[str, int]) -> float | None:
    counts = cache_counts(counters)
    hits = sum(count for (_, outcome), count in counts.items() if outcome == "hit")
    misses = sum(count for (_, outcome), count in counts.items() if outcome == "miss")
    return hits / (hits + misses) if hits + misses else None


def latency_histogram(counters: dict[str, int]) -> list[tuple[float, int]]:
    """[(upper bound in ms, count)] per bucket, not cumulative; the last bound is infinity."""
    bounds = [*LATENCY_BUCKETS_MS, "inf"]
    return [(float(bound), counters.get(f"request:bucket:{bound}", 0)) for bound in bounds]
