"""The two endpoints the registration rules could slow down, from locust's per-endpoint statistics of
the product's registration-week run: enroll (one transaction after one BatchGetItem of what the
rules read) and the cached course list; and the same figures from an earlier run (BENCH_BEFORE_JSON,
say one made before the rules) to compare with. No Django here (benchmarks/run.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# Locust's row names: the request's method, then the name locustfiles/registration.py gives it.
KEY_ENDPOINTS = {
    "enroll": ("POST POST /enrollments", "enroll (`POST /api/enrollments`)"),
    "course_list": ("GET GET /courses?semester_id", "cached course list (`GET /api/courses?semester_id=`)"),
}
# The budget for the rules: enroll's p50 may grow by at most a third.
ENROLL_P50_BUDGET = 4 / 3


def key_endpoints(configuration: dict[str, Any] | None) -> dict[str, dict[str, Any] | None]:
    """Requests, p50 and p99 of each key endpoint in one configuration's figures (None if absent)."""
    endpoints = (configuration or {}).get("endpoints", {})
    figures: dict[str, dict[str, Any] | None] = {}
    for key, (row_name, _) in KEY_ENDPOINTS.items():
        row = endpoints.get(row_name)
        figures[key] = (
            {name: row[name] for name in ("requests", "failures", "p50_ms", "p99_ms", "average_ms")} if row else None
        )
    return figures


def before_figures(path: Path | None) -> dict[str, Any] | None:
    """The key endpoints of the product in an earlier run's bench.json, with where and when it was made."""
    if path is None:
        return None
    try:
        earlier = json.loads(path.read_text())
    except FileNotFoundError:
        raise SystemExit(f"BENCH_BEFORE_JSON: {path} does not exist") from None
    except ValueError as error:
        raise SystemExit(f"BENCH_BEFORE_JSON: {path} is not JSON ({error})") from None
    return {
        "source": str(path),
        "finished_at": earlier.get("finished_at"),
        "key_endpoints": key_endpoints(earlier.get("configurations", {}).get("product")),
    }


def enroll_p50_growth(results: dict[str, Any]) -> float | None:
    """This run's enroll p50 over the earlier run's (1.25 is 25% slower), if both are known."""
    before = ((results.get("before") or {}).get("key_endpoints") or {}).get("enroll")
    after = (results.get("key_endpoints") or {}).get("enroll")
    if not before or not after or not before["p50_ms"]:
        return None
    return after["p50_ms"] / before["p50_ms"]
