"""The CloudWatch push: the broker's queue lengths, and the counters' growth since the previous
push, as PutMetricData entries.

Beat runs `push_metrics` (tasks.py) every CLOUDWATCH_PUSH_INTERVAL_SECONDS when
CLOUDWATCH_METRICS_ENABLED is set. The totals at each push are kept in Redis as the next push's
baseline, so each push sends what all processes counted in between, exactly once.
"""

from __future__ import annotations

import contextlib
import logging
import math
from typing import Any

import boto3
import orjson
from django.conf import settings
from redis.exceptions import RedisError

from courseproject.observability.counters import (
    LATENCY_BUCKETS_MS,
    cache_counts,
    counters_redis,
    latency_histogram,
    totals,
)
from courseproject.observability.queues import broker_queue_lengths

logger = logging.getLogger(__name__)


def last_push_key() -> str:
    return f"{settings.CACHE_KEY_PREFIX}:v1:metrics:last-push"


def _counter_deltas() -> tuple[dict[str, int], dict[str, int]] | None:
    """(counters since the previous push, all processes; the current totals), or None without a
    baseline (first push, or the baseline was evicted): then this push only sets one."""
    client = counters_redis()
    if client is None:
        return None
    current = totals()
    try:
        previous_raw = client.get(last_push_key())
    except RedisError:
        return None
    if not previous_raw:
        _save_baseline(current)
        return None
    previous = orjson.loads(previous_raw)
    # A counter below its previous value means the hash was reset: count it from zero.
    deltas = {
        field: value - previous.get(field, 0) if value >= previous.get(field, 0) else value
        for field, value in current.items()
    }
    return deltas, current


def _save_baseline(totals: dict[str, int]) -> None:
    client = counters_redis()
    if client is not None:
        with contextlib.suppress(RedisError):
            client.set(last_push_key(), orjson.dumps(totals), ex=7 * 24 * 3600)


def metric_data(deltas: dict[str, int]) -> list[dict[str, Any]]:
    """PutMetricData entries: cache hit rate and counts, request count, 5xx count, latency histogram."""
    dimensions = [{"Name": "Environment", "Value": settings.DEPLOY_ENVIRONMENT}]
    cache = cache_counts(deltas)
    hits = sum(count for (_, outcome), count in cache.items() if outcome == "hit")
    misses = sum(count for (_, outcome), count in cache.items() if outcome == "miss")
    data: list[dict[str, Any]] = [
        {"MetricName": "CacheHits", "Dimensions": dimensions, "Value": hits, "Unit": "Count"},
        {"MetricName": "CacheMisses", "Dimensions": dimensions, "Value": misses, "Unit": "Count"},
        {"MetricName": "Requests", "Dimensions": dimensions, "Value": deltas.get("request:count", 0), "Unit": "Count"},
        {
            "MetricName": "WaitlistPromotions",
            "Dimensions": dimensions,
            "Value": deltas.get("waitlist:promoted", 0),
            "Unit": "Count",
        },
        {
            "MetricName": "Requests5xx",
            "Dimensions": dimensions,
            "Value": deltas.get("request:status:5xx", 0),
            "Unit": "Count",
        },
    ]
    if hits + misses:
        data.append(
            {
                "MetricName": "CacheHitRate",
                "Dimensions": dimensions,
                "Value": 100.0 * hits / (hits + misses),
                "Unit": "Percent",
            }
        )
    # Each latency bucket as (its upper bound, how many requests fell in it): CloudWatch computes
    # percentiles (p50, p99) from value/count pairs. The open-ended bucket counts at twice the last bound.
    histogram = [
        (bound if not math.isinf(bound) else LATENCY_BUCKETS_MS[-1] * 2.0, deltas_count)
        for bound, deltas_count in latency_histogram(deltas)
        if deltas_count > 0
    ]
    if histogram:
        data.append(
            {
                "MetricName": "RequestLatency",
                "Dimensions": dimensions,
                "Values": [bound for bound, _ in histogram],
                "Counts": [float(count) for _, count in histogram],
                "Unit": "Milliseconds",
            }
        )
    return data


_cloudwatch: Any = None


def _cloudwatch_client() -> Any:
    global _cloudwatch
    if _cloudwatch is None:
        _cloudwatch = boto3.client("cloudwatch", region_name=settings.AWS_REGION)
    return _cloudwatch


def push_stalled_seat_age(seconds: float) -> None:
    """The waitlist sweep's figure: how long the oldest free seat someone waits for has been free.
    Its alarm also fires when no figure arrives (the sweep, or the workers, stopped)."""
    if not settings.CLOUDWATCH_METRICS_ENABLED:
        return
    dimensions = [{"Name": "Environment", "Value": settings.DEPLOY_ENVIRONMENT}]
    _cloudwatch_client().put_metric_data(
        Namespace=settings.CLOUDWATCH_NAMESPACE,
        MetricData=[
            {"MetricName": "WaitlistStalledSeatAge", "Dimensions": dimensions, "Value": seconds, "Unit": "Seconds"}
        ],
    )


def queue_length_data(lengths: dict[str, int]) -> list[dict[str, Any]]:
    """One QueueLength datum per Celery queue (dimensions Environment and Queue): the workers'
    scaling policy and the growing-queue alarms (infra/compute.yaml) read it."""
    return [
        {
            "MetricName": "QueueLength",
            "Dimensions": [
                {"Name": "Environment", "Value": settings.DEPLOY_ENVIRONMENT},
                {"Name": "Queue", "Value": queue},
            ],
            "Value": length,
            "Unit": "Count",
        }
        for queue, length in sorted(lengths.items())
    ]


def push_metrics() -> int:
    """Send the broker's queue lengths and the last interval's cache and latency figures to
    CloudWatch; returns the datum count."""
    if not settings.CLOUDWATCH_METRICS_ENABLED:
        return 0
    lengths = broker_queue_lengths()
    data = queue_length_data(lengths) if lengths is not None else []
    counted = _counter_deltas()
    if counted is None:
        logger.info("Metrics push: no baseline yet (or Redis unavailable); the next push sends figures")
    else:
        data.extend(metric_data(counted[0]))
    client = _cloudwatch_client()
    for start in range(0, len(data), 1000):  # PutMetricData's limit per call
        client.put_metric_data(Namespace=settings.CLOUDWATCH_NAMESPACE, MetricData=data[start : start + 1000])
    if counted is not None:
        _save_baseline(counted[1])  # only after CloudWatch took them: a failed push is sent with the next
    return len(data)
