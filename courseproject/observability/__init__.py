"""Observability: counters of every process (cache lookups, request latency), the request log line and
its request id (carried into the Celery tasks a request causes), JSON logs, /metrics, the health
check and the CloudWatch push."""
