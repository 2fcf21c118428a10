"""Peak throughput, and which web server gives it: every candidate's bare Django and cached course-list
peaks in one run, driven by wrk with keep-alive connections.

Each candidate is the product's own server (courseproject/serve.py) with other settings: gunicorn's
sync workers as before, gthread, and granian. All candidates run at once on their own ports, idle
but for the one measured, and the rounds alternate (every candidate and endpoint in each round), so
a slower stretch of the machine weighs on all alike. wrk runs on the same two cores as the server:
its own CPU is the same for every candidate, and the figures compare, but are not what a machine of
its own would serve.

The product's server (courseproject/serve.py with the run's BENCH_WEB_* settings) is the one every
other measurement of the run uses; the run says whether it was the fastest. Its cached list's peak
is compared with the fastest bare figure of any candidate: what we serve against the best the
framework does on this machine.
"""

from __future__ import annotations

import multiprocessing
import re
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any

from benchmarks.api_client import get_json, sign_in
from benchmarks.server_figures import process_group_cpu_seconds
from benchmarks.stack import BenchStack, base_url
from devstack.services import ManagedProcess

CORES = multiprocessing.cpu_count()
BARE_PATH = "/bench/bare"
WARM_SECONDS = 2


@dataclass(frozen=True)
class Candidate:
    name: str
    env: dict[str, str]


# The alternatives to the product's server (what courseproject/serve.py runs with the run's settings).
ALTERNATIVES = (
    Candidate(
        f"gunicorn sync, {2 * CORES + 1} workers (2 x cores + 1)",
        {"WEB_SERVER": "gunicorn", "GUNICORN_WORKER_CLASS": "sync", "GUNICORN_WORKERS": str(2 * CORES + 1)},
    ),
    Candidate(
        f"gunicorn sync, {CORES} workers",
        {"WEB_SERVER": "gunicorn", "GUNICORN_WORKER_CLASS": "sync", "GUNICORN_WORKERS": str(CORES)},
    ),
    Candidate(
        f"gunicorn gthread, {CORES} workers x 4 threads",
        {
            "WEB_SERVER": "gunicorn",
            "GUNICORN_WORKER_CLASS": "gthread",
            "GUNICORN_WORKERS": str(CORES),
            "GUNICORN_THREADS": "4",
        },
    ),
)


@dataclass
class WrkResult:
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p99_ms: float


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if match is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def parse_wrk(output: str) -> WrkResult:
    """wrk --latency's summary: requests, duration, errors (socket errors and non-2xx/3xx), p50, p99."""
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", output)
    if total is None:
        raise ValueError(f"wrk printed no summary:\n{output}")
    percentiles = dict(re.findall(r"^\s+(50|99)(?:\.0+)?%\s+(\S+)$", output, flags=re.MULTILINE))
    errors = sum(int(count) for count in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    non_success = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors += int(non_success.group(1)) if non_success else 0
    return WrkResult(
        requests=int(total.group(1)),
        seconds=_ms(total.group(2) + total.group(3)) / 1000,
        errors=errors,
        p50_ms=_ms(percentiles["50"]) if "50" in percentiles else float("nan"),
        p99_ms=_ms(percentiles["99"]) if "99" in percentiles else float("nan"),
    )


def run_wrk(url: str, *, headers: dict[str, str], seconds: float, connections: int, threads: int) -> WrkResult:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is needed for the peak measurement (make bench installs it: devstack/install-wrk.sh)")
    argv = [wrk, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency"]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    completed = subprocess.run([*argv, url], capture_output=True, text=True, check=True, timeout=seconds + 60)
    return parse_wrk(completed.stdout)


def _candidates(stack: BenchStack) -> tuple[Candidate, list[Candidate]]:
    """The product's server, as every other measurement of the run uses it, and every candidate
    (only the product's when BENCH_PEAK_SERVERS=product)."""
    product = Candidate(f"{stack.variables.web_server_description()} (the product's)", {})
    if stack.variables.peak_servers() == "product":
        return product, [product]
    return product, [*ALTERNATIVES, product]


def measure_peaks(stack: BenchStack) -> dict[str, Any]:
    integer = stack.variables.integer
    product, candidates = _candidates(stack)
    stack.flush_cache()
    servers: dict[str, ManagedProcess] = {}
    try:
        for number, candidate in enumerate(candidates, start=1):
            servers[candidate.name] = stack.server(name=f"peak-{number}", cache_enabled=True, env=candidate.env)
        some_url = base_url(next(iter(servers.values())))
        token = sign_in(some_url, "student1@demo.edu")
        path = f"/api/courses?semester_id={stack.variables.semester_ids()[0]}"
        get_json(some_url + path, token)  # cached once; every server reads the same Redis
        endpoints = {"cached course list": (path, {"Authorization": f"Bearer {token}"}), "bare": (BARE_PATH, {})}
        connections = max(1, integer("BENCH_PEAK_CONNECTIONS"))
        threads = max(1, integer("BENCH_PEAK_PROCESSES"))
        rounds = max(1, integer("BENCH_PEAK_ROUNDS"))
        seconds = max(1.0, integer("BENCH_PEAK_SECONDS") / rounds)
        warm_seconds = min(WARM_SECONDS, seconds)
        for candidate in candidates:  # warm every process and thread of each server, unmeasured
            url = base_url(servers[candidate.name])
            for target, headers in endpoints.values():
                run_wrk(url + target, headers=headers, seconds=warm_seconds, connections=connections, threads=threads)
        totals = {
            (candidate.name, label): {"requests": 0, "errors": 0, "seconds": 0.0, "cpu": 0.0, "p50": [], "p99": []}
            for candidate in candidates
            for label in endpoints
        }
        for round_number in range(1, rounds + 1):
            print(
                f"peak round {round_number}/{rounds}: {len(candidates)} servers x 2 endpoints, {seconds:.0f} s each",
                flush=True,
            )
            for candidate in candidates:
                server = servers[candidate.name]
                for label, (target, headers) in endpoints.items():
                    cpu_before = process_group_cpu_seconds(server.process.pid)
                    result = run_wrk(
                        base_url(server) + target,
                        headers=headers,
                        seconds=seconds,
                        connections=connections,
                        threads=threads,
                    )
                    total = totals[(candidate.name, label)]
                    total["cpu"] += process_group_cpu_seconds(server.process.pid) - cpu_before
                    total["requests"] += result.requests
                    total["errors"] += result.errors
                    total["seconds"] += result.seconds
                    total["p50"].append(result.p50_ms)
                    total["p99"].append(result.p99_ms)
                    print(
                        f"  {candidate.name}, {label}: {result.requests / result.seconds:,.0f} req/s, "
                        f"p99 {result.p99_ms:.1f} ms, {result.errors} errors",
                        flush=True,
                    )
    finally:
        for server in servers.values():
            stack.stop_service(server)
    return summarize(
        product, candidates, totals, connections=connections, threads=threads, rounds=rounds, seconds=seconds
    )


def summarize(
    product_candidate: Candidate,
    candidates: list[Candidate],
    totals: dict[tuple[str, str], dict[str, Any]],
    *,
    connections: int,
    threads: int,
    rounds: int,
    seconds: float,
) -> dict[str, Any]:
    """Per candidate and endpoint: req/s over all rounds, the median round's p50 and the worst round's
    p99 (wrk gives percentiles per run, which do not add up), CPU ms per request; and the ratios."""
    servers: dict[str, dict[str, Any]] = {}
    for candidate in candidates:
        figures = {}
        for label in ("cached course list", "bare"):
            total = totals[(candidate.name, label)]
            figures[label] = {
                "requests": total["requests"],
                "errors": total["errors"],
                "requests_per_second": total["requests"] / total["seconds"] if total["seconds"] else 0.0,
                "p50_ms": sorted(total["p50"])[len(total["p50"]) // 2],
                "p99_ms": max(total["p99"]),
                "cpu_ms_per_request": 1000 * total["cpu"] / total["requests"] if total["requests"] else None,
            }
        servers[candidate.name] = figures
    fastest_bare = max(candidates, key=lambda candidate: servers[candidate.name]["bare"]["requests_per_second"])
    fastest_cached = max(
        candidates, key=lambda candidate: servers[candidate.name]["cached course list"]["requests_per_second"]
    )
    product = servers[product_candidate.name]
    bare_peak = servers[fastest_bare.name]["bare"]["requests_per_second"]
    return {
        "tool": "wrk",
        "connections": connections,
        "threads": threads,
        "rounds": rounds,
        "seconds_per_round": seconds,
        "servers": servers,
        "product_server": product_candidate.name,
        "fastest_bare_server": fastest_bare.name,
        "fastest_cached_server": fastest_cached.name,
        "product_is_fastest": fastest_cached.name == product_candidate.name,
        # Issue 15's target: the product's cached list against the fastest bare Django of the run.
        "cached_over_fastest_bare": (
            product["cached course list"]["requests_per_second"] / bare_peak if bare_peak else None
        ),
        "cached_over_bare_same_server": (
            product["cached course list"]["requests_per_second"] / product["bare"]["requests_per_second"]
            if product["bare"]["requests_per_second"]
            else None
        ),
        "bare_cpu_ms_per_request": product["bare"]["cpu_ms_per_request"],
        # The product's two endpoints under the names earlier runs used (charts, summaries).
        "results": {"cached course list": product["cached course list"], "bare Django JsonResponse": product["bare"]},
    }
