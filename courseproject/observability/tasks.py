"""The periodic CloudWatch push (beat, every CLOUDWATCH_PUSH_INTERVAL_SECONDS when enabled), routed
to settings.METRICS_QUEUE."""

from __future__ import annotations

from celery import shared_task

from courseproject.observability import cloudwatch


@shared_task(name="courseproject.push_metrics", ignore_result=True)
def push_metrics() -> int:
    """Send the queue lengths and the last interval's cache and latency figures to CloudWatch;
    returns the datum count."""
    return cloudwatch.push_metrics()
