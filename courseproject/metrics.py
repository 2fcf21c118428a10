"""Counters of every process, added up in Redis: cache lookups, request latency, hot semesters.

Each process counts in memory; a daemon thread adds its counts to one Redis hash every second
(one pipelined round trip). Counting costs a request no round trip, an idle worker's counts still
arrive, and the hash holds the totals of all gunicorn workers on all instances. /metrics reads it,
and the Celery metrics task pushes it to CloudWatch.

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

from redis.exceptions import RedisError

from courseproject.caching import keys

logger = logging.getLogger(__name__)

FLUSH_INTERVAL_SECONDS = 1.0
# Upper bounds of the latency buckets, in milliseconds; the last bucket is everything slower.
LATENCY_BUCKETS_MS = (1, 2, 3, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000)

_lock = threading.Lock()
_pending: Counter[str] = Counter()
_hot_semesters: set[int] = set()
_flusher_pid: int | None = None


def _reset_in_child() -> None:
    # A child forked while another thread held the lock would wait on it forever.
    global _lock
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_reset_in_child)


def _ensure_flusher() -> None:
    if _flusher_pid != os.getpid():
        _start_flusher()


def record_cache_lookup(family: str, *, hit: bool) -> None:
    _ensure_flusher()
    with _lock:
        _pending[f"cache:{family}:{'hit' if hit else 'miss'}"] += 1


def record_request(*, duration_ms: float, status: int) -> None:
    _ensure_flusher()
    bucket = next((bound for bound in LATENCY_BUCKETS_MS if duration_ms <= bound), "inf")
    with _lock:
        _pending[f"request:bucket:{bucket}"] += 1
        _pending["request:count"] += 1
        _pending["request:sum_us"] += round(duration_ms * 1000)
        _pending[f"request:status:{status // 100}xx"] += 1


def note_semester_read(semester_id: int) -> None:
    """Remember that someone browsed this semester; cache warming keeps the browsed ones warm."""
    _ensure_flusher()
    with _lock:
        _hot_semesters.add(semester_id)


def _start_flusher() -> None:
    """One flushing thread per process; started again in a forked child, which has no threads."""
    global _flusher_pid
    with _lock:
        if _flusher_pid == os.getpid():
            return
        _flusher_pid = os.getpid()
        _pending.clear()  # counts inherited from a parent were the parent's to flush
        _hot_semesters.clear()

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
    from courseproject.caching.store import gate

    with _lock:
        counts = dict(_pending)
        semesters = set(_hot_semesters)
        _pending.clear()
        _hot_semesters.clear()
    if not counts and not semesters:
        return
    client = gate.client()
    try:
        if client is None:
            raise RedisError("Redis unavailable")
        pipeline = client.pipeline(transaction=False)
        for field, count in counts.items():
            pipeline.hincrby(keys.metrics_hash(), field, count)
        if semesters:
            pipeline.zadd(keys.hot_semesters(), dict.fromkeys(semesters, time.time()))
        pipeline.execute()
    except RedisError:
        with _lock:
            _pending.update(counts)
            _hot_semesters.update(semesters)


def totals() -> dict[str, int]:
    """Every counter of every process, by field name (cache:<family>:<outcome>, request:...)."""
    from courseproject.caching.store import gate

    flush()
    result = {f"cache:{family}:{outcome}": 0 for family in keys.FAMILIES for outcome in ("hit", "miss")}
    client = gate.client()
    if client is None:
        return result
    try:
        stored = client.hgetall(keys.metrics_hash())
    except RedisError:
        return result
    for field, value in stored.items():
        result[field.decode() if isinstance(field, bytes) else field] = int(value)
    return result


def hot_semesters(*, within_seconds: float) -> list[int]:
    """Semesters somebody browsed within the last `within_seconds`, most recent first."""
    from courseproject.caching.store import gate

    client = gate.client()
    if client is None:
        return []
    try:
        members = client.zrevrangebyscore(keys.hot_semesters(), "+inf", time.time() - within_seconds)
    except RedisError:
        return []
    return [int(member) for member in members]


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


def prometheus_text() -> str:
    counters = totals()
    lines = [
        "# HELP course_cache_lookups_total Cache lookups by key family and outcome, all processes.",
        "# TYPE course_cache_lookups_total counter",
    ]
    for (family, outcome), count in sorted(cache_counts(counters).items()):
        lines.append(f'course_cache_lookups_total{{family="{family}",outcome="{outcome}"}} {count}')
    rate = hit_rate(counters)
    lines += [
        "# HELP course_cache_hit_ratio Hits over lookups since the counters started, all families.",
        "# TYPE course_cache_hit_ratio gauge",
        f"course_cache_hit_ratio {rate if rate is not None else 'NaN'}",
        "# HELP course_request_duration_seconds Time to answer a request, all processes.",
        "# TYPE course_request_duration_seconds histogram",
    ]
    cumulative = 0
    for bound_ms, count in latency_histogram(counters):
        cumulative += count
        bound = "+Inf" if bound_ms == float("inf") else f"{bound_ms / 1000:g}"
        lines.append(f'course_request_duration_seconds_bucket{{le="{bound}"}} {cumulative}')
    lines += [
        f"course_request_duration_seconds_sum {counters.get('request:sum_us', 0) / 1e6}",
        f"course_request_duration_seconds_count {counters.get('request:count', 0)}",
        "# HELP course_requests_total Requests by status class, all processes.",
        "# TYPE course_requests_total counter",
    ]
    for status_class in ("2xx", "3xx", "4xx", "5xx"):
        lines.append(
            f'course_requests_total{{status="{status_class}"}} {counters.get(f"request:status:{status_class}", 0)}'
        )
    return "\n".join(lines) + "\n"
