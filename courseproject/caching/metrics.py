"""Cache hit and miss counters per key family, summed over every process that serves requests.

Each process counts in memory, and a daemon thread adds the counts to one Redis hash every second
(one pipelined HINCRBY per family and outcome). Counting costs a request no round trip, an idle
worker's counts still arrive, and the hash holds the totals of all gunicorn workers on all
instances. /metrics reads the hash.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import Counter

from redis.exceptions import RedisError

from courseproject.caching import keys

logger = logging.getLogger(__name__)

FLUSH_INTERVAL_SECONDS = 1.0

_lock = threading.Lock()
_pending: Counter[str] = Counter()
_flusher_pid: int | None = None


def _field(family: str, hit: bool) -> str:
    return f"{family}:{'hit' if hit else 'miss'}"


def record(family: str, *, hit: bool) -> None:
    if _flusher_pid != os.getpid():
        _start_flusher()
    with _lock:
        _pending[_field(family, hit)] += 1


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
                logger.exception("Flushing cache counters failed")

    threading.Thread(target=flush_forever, name="cache-metrics-flusher", daemon=True).start()


def flush() -> None:
    """Add this process's counts to the shared hash; kept for the next try if Redis is away."""
    from courseproject.caching.store import gate

    with _lock:
        counts = dict(_pending)
        _pending.clear()
    if not counts:
        return
    client = gate.client()
    try:
        if client is None:
            raise RedisError("Redis unavailable")
        pipeline = client.pipeline(transaction=False)
        for field, count in counts.items():
            pipeline.hincrby(keys.metrics_hash(), field, count)
        pipeline.execute()
    except RedisError:
        with _lock:
            _pending.update(counts)


def totals() -> dict[tuple[str, str], int]:
    """{(family, "hit" | "miss"): count} over all processes; zeros for families not seen yet."""
    from courseproject.caching.store import gate

    flush()
    result = {(family, outcome): 0 for family in keys.FAMILIES for outcome in ("hit", "miss")}
    client = gate.client()
    if client is None:
        return result
    try:
        stored = client.hgetall(keys.metrics_hash())
    except RedisError:
        return result
    for field, value in stored.items():
        family, _, outcome = (field.decode() if isinstance(field, bytes) else field).rpartition(":")
        result[(family, outcome)] = int(value)
    return result


def hit_rate(counts: dict[tuple[str, str], int]) -> float | None:
    hits = sum(count for (_, outcome), count in counts.items() if outcome == "hit")
    misses = sum(count for (_, outcome), count in counts.items() if outcome == "miss")
    return hits / (hits + misses) if hits + misses else None


def prometheus_text() -> str:
    counts = totals()
    lines = [
        "# HELP course_cache_lookups_total Cache lookups by key family and outcome, all processes.",
        "# TYPE course_cache_lookups_total counter",
    ]
    for (family, outcome), count in sorted(counts.items()):
        lines.append(f'course_cache_lookups_total{{family="{family}",outcome="{outcome}"}} {count}')
    rate = hit_rate(counts)
    lines += [
        "# HELP course_cache_hit_ratio Hits over lookups since the counters started, all families.",
        "# TYPE course_cache_hit_ratio gauge",
        f"course_cache_hit_ratio {rate if rate is not None else 'NaN'}",
    ]
    return "\n".join(lines) + "\n"
