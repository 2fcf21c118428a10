"""Project-wide periodic tasks: relay the outbox, push metrics to CloudWatch."""

from __future__ import annotations

import contextlib
import logging
import math
from typing import Any

import boto3
import orjson
from celery import shared_task
from django.conf import settings
from redis.exceptions import RedisError

from courseproject import metrics
from courseproject.background import background_task, relay_until_empty
from courseproject.caching import keys
from courseproject.caching.store import apply_repairs, gate

logger = logging.getLogger(__name__)


@shared_task(name="courseproject.relay_outbox", ignore_result=True, expires=60)
def relay_outbox() -> int:
    """Drain the outbox (the broker is evidently back, since this task arrived)."""
    return relay_until_empty(budget_seconds=settings.OUTBOX_RELAY_INTERVAL_SECONDS * 0.8)


@background_task("courseproject.repair_cache")
def repair_cache(*, event_id: str, delete_keys: list[str], bump_keys: list[str]) -> None:
    """Apply cache writes a process could not make (Redis errors retry with backoff until it answers)."""
    client = gate.writer()
    if client is not None:
        apply_repairs(client, delete_keys=delete_keys, bump_keys=bump_keys)


def _counter_deltas() -> tuple[dict[str, int], dict[str, int]] | None:
    """(counters since the previous push, all processes; the current totals), or None without a
    baseline (first push, or the baseline was evicted): then this push only sets one."""
    client = gate.client()
    if client is None:
        return None
    current = metrics.totals()
    try:
        previous_raw = client.get(keys.metrics_last_push())
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
    client = gate.client()
    if client is not None:
        with contextlib.suppress(RedisError):
            client.set(keys.metrics_last_push(), orjson.dumps(totals), ex=7 * 24 * 3600)


def metric_data(deltas: dict[str, int]) -> list[dict[str, Any]]:
    """PutMetricData entries: cache hit rate and counts, request count, 5xx count, latency histogram."""
    dimensions = [{"Name": "Environment", "Value": settings.DEPLOY_ENVIRONMENT}]
    cache = metrics.cache_counts(deltas)
    hits = sum(count for (_, outcome), count in cache.items() if outcome == "hit")
    misses = sum(count for (_, outcome), count in cache.items() if outcome == "miss")
    data: list[dict[str, Any]] = [
        {"MetricName": "CacheHits", "Dimensions": dimensions, "Value": hits, "Unit": "Count"},
        {"MetricName": "CacheMisses", "Dimensions": dimensions, "Value": misses, "Unit": "Count"},
        {"MetricName": "Requests", "Dimensions": dimensions, "Value": deltas.get("request:count", 0), "Unit": "Count"},
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
        (bound if not math.isinf(bound) else metrics.LATENCY_BUCKETS_MS[-1] * 2.0, deltas_count)
        for bound, deltas_count in metrics.latency_histogram(deltas)
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


@shared_task(name="courseproject.push_metrics", ignore_result=True)
def push_metrics() -> int:
    """Send the last interval's cache and latency figures to CloudWatch; returns the datum count."""
    if not settings.CLOUDWATCH_METRICS_ENABLED:
        return 0
    counted = _counter_deltas()
    if counted is None:
        logger.info("Metrics push: no baseline yet (or Redis unavailable); the next push sends figures")
        return 0
    deltas, totals = counted
    data = metric_data(deltas)
    client = _cloudwatch_client()
    for start in range(0, len(data), 1000):  # PutMetricData's limit per call
        client.put_metric_data(Namespace=settings.CLOUDWATCH_NAMESPACE, MetricData=data[start : start + 1000])
    _save_baseline(totals)  # only after CloudWatch took them: a failed push is sent with the next
    return len(data)
