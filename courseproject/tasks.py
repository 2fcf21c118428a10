"""Project-wide periodic tasks: relay the outbox, push metrics to CloudWatch."""

from __future__ import annotations

import logging
import math
from typing import Any

import boto3
import orjson
from celery import shared_task
from django.conf import settings
from redis.exceptions import RedisError

from courseproject import metrics
from courseproject.background import background_task, relay_pending
from courseproject.caching import keys
from courseproject.caching.store import apply_repairs, gate

logger = logging.getLogger(__name__)


@shared_task(name="courseproject.relay_outbox", acks_late=True, ignore_result=True)
def relay_outbox() -> int:
    return relay_pending()


@background_task("courseproject.repair_cache")
def repair_cache(*, event_id: str, delete_keys: list[str], bump_keys: list[str]) -> None:
    """Apply cache writes a process could not make (Redis errors retry with backoff until it answers)."""
    client = gate.writer()
    if client is not None:
        apply_repairs(client, delete_keys=delete_keys, bump_keys=bump_keys)


def _counter_deltas() -> dict[str, int] | None:
    """Counters accumulated since the previous push (all processes), remembering this push's totals."""
    client = gate.client()
    if client is None:
        return None
    current = metrics.totals()
    try:
        previous_raw = client.set(keys.metrics_last_push(), orjson.dumps(current), get=True)
    except RedisError:
        return None
    previous = orjson.loads(previous_raw) if previous_raw else {}
    # A counter below its previous value means the hash was reset (flush after an outage): start over.
    return {
        field: value - previous.get(field, 0) if value >= previous.get(field, 0) else value
        for field, value in current.items()
    }


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
    deltas = _counter_deltas()
    if deltas is None:
        logger.warning("Metrics push skipped: Redis unavailable")
        return 0
    data = metric_data(deltas)
    client = _cloudwatch_client()
    for start in range(0, len(data), 1000):  # PutMetricData's limit per call
        client.put_metric_data(Namespace=settings.CLOUDWATCH_NAMESPACE, MetricData=data[start : start + 1000])
    return len(data)
