"""Bare Django under the registration-week mix's own load: as many users as the mix, each asking the
benchmark's bare endpoint (/bench/bare, benchmarks/urls.py) at BENCH_BARE_RATE_PER_USER requests a
second, so the server sees the mix's request rate over the mix's number of kept-alive connections.

    .venv/bin/locust -f locustfiles/bare.py --host http://127.0.0.1:8000 --headless -u 200 -r 10 -t 60s BareUser

A request's CPU depends on the load as much as on the request: on two cores, granian spends about
0.27 ms of CPU on a bare request when wrk keeps it saturated, and 0.38 to 0.47 ms at the mix's 190
requests a second, when each request wakes a sleeping thread. `make bench` (benchmarks/scenarios.py)
compares the mix's CPU per request with this run's as well as with the saturated peak's.
BENCH_WARMUP and BENCH_SPAWNED_MARKER work as in registration.py, whose listeners this file imports.
"""

from __future__ import annotations

import os

# locust imports a locustfile as a top-level module with its directory on sys.path; importing
# registration registers its warm-up listener (the statistics reset after BENCH_WARMUP).
import registration  # noqa: F401
from locust import FastHttpUser, constant_throughput, task

__all__ = ["BareUser"]

RATE_PER_USER = float(os.environ.get("BENCH_BARE_RATE_PER_USER") or 1)


class BareUser(FastHttpUser):
    wait_time = constant_throughput(RATE_PER_USER)

    @task
    def bare(self) -> None:
        self.client.get("/bench/bare", name="GET /bench/bare")
