"""What the cost and capacity model (benchmarks/cost_model.py) takes from a `make bench` run's
bench.json: the product's CPU, DynamoDB calls and units per request, its cache hit rate, the cached
list's peak on the product's server, and the rush opening's figures beside them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devstack.services import ROOT


class MissingFiguresError(ValueError):
    """The run's bench.json lacks a figure the model needs (no product configuration, say)."""


@dataclass(frozen=True)
class Measured:
    """The figures of one run the model uses, all from the product's configuration (cache on)."""

    run: str
    server_cpu_ms_per_request: float
    read_units_per_request: float
    worker_read_units_per_request: float
    write_units_per_request: float
    dynamodb_calls_per_request: float
    cache_hit_rate: float | None
    uncached_read_units_per_request: float | None
    server: str
    cached_list_requests_per_second: float
    cached_list_cpu_ms_per_request: float
    rush_opening_cpu_ms_per_request: float | None = None
    rush_opening_read_units_per_request: float | None = None

    @classmethod
    def from_results(cls, results: dict[str, Any], *, source: str) -> Measured:
        configurations = results.get("configurations", {})
        if "product" not in configurations:
            raise MissingFiguresError("the run has no product configuration (BENCH_CONFIGS left it out)")
        product, uncached = configurations["product"], configurations.get("uncached")
        peak = results["peak"]
        cached_list = peak["servers"][peak["product_server"]]["cached course list"]
        opening = (results.get("rush", {}).get("opening") or {}).get("server") or {}
        return cls(
            run=f"`make bench` run of {results['finished_at']} on {results['machine']} ({source})",
            server_cpu_ms_per_request=product["server_cpu_ms_per_request"],
            read_units_per_request=product["read_capacity_per_request"],
            worker_read_units_per_request=product.get("worker_read_capacity_per_request", 0.0),
            write_units_per_request=product["write_capacity_per_request"],
            dynamodb_calls_per_request=product["dynamodb_calls_per_request"],
            cache_hit_rate=product["cache_hit_rate"],
            uncached_read_units_per_request=uncached["read_capacity_per_request"] if uncached else None,
            server=peak["product_server"],
            cached_list_requests_per_second=cached_list["requests_per_second"],
            cached_list_cpu_ms_per_request=cached_list["cpu_ms_per_request"],
            rush_opening_cpu_ms_per_request=opening.get("server_cpu_ms_per_request"),
            rush_opening_read_units_per_request=opening.get("read_capacity_per_request"),
        )

    def cacheable_read_units(self) -> float:
        """Read units per request the cache saves on a hit: what the uncached configuration read beyond
        the product, over the product's hit rate. None known (no uncached run): 0."""
        if self.uncached_read_units_per_request is None or not self.cache_hit_rate:
            return 0.0
        return max(0.0, (self.uncached_read_units_per_request - self.read_units_per_request) / self.cache_hit_rate)

    def read_units_at(self, hit_rate: float | None) -> float:
        """Server and worker read units per request at `hit_rate` (None: the measured rate): the
        cacheable reads scale with the misses, the rest (a write's checks, consistent reads) do not."""
        cacheable, measured_rate = self.cacheable_read_units(), self.cache_hit_rate or 0.0
        uncacheable = max(0.0, self.read_units_per_request - cacheable * (1 - measured_rate))
        rate = measured_rate if hit_rate is None else hit_rate
        return uncacheable + cacheable * (1 - rate) + self.worker_read_units_per_request


def run_source(bench_json: Path) -> str:
    """Where the run's figures are, as the table names it: inside the repository, its path; outside
    (another machine's run directory), no path that would mean nothing to a reader."""
    try:
        return f"`{bench_json.resolve().relative_to(ROOT)}`"
    except ValueError:
        return "its bench.json"
