"""The cost and capacity model: from one `make bench` run's measured figures and the stated
assumptions (benchmarks/cost_assumptions.py), the requests a second, web tasks and monthly AWS cost
of universities of each size, in a normal week and on registration morning. `make bench` writes the
table into docs/deploy.md between its markers; to recompute it from an earlier run (after changing
an assumption, say):

    .venv/bin/python -m benchmarks.cost_model RUN_DIR [--write] [--docs-file PATH]

The web tasks are sized on the registration-week mix's server CPU per request, not on the cached
list's peak: the mix is what students do, the cached list only its cheapest request.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.cost_assumptions import Assumptions, RedisNodes, assumption_lines, redis_nodes
from benchmarks.cost_measurements import Measured, MissingFiguresError, run_source
from benchmarks.report import MarkerError, check_marker_pair, replace_between
from benchmarks.rush_report import format_hit_rate
from benchmarks.variables import COST_DOCS_FILE

MARKERS = ("<!-- cost-model:begin -->", "<!-- cost-model:end -->")
# What a new on-demand table serves at once (it then follows up to double its previous peak).
NEW_TABLE_READ_UNITS_PER_SECOND = 12_000
NEW_TABLE_WRITE_UNITS_PER_SECOND = 4_000


@dataclass(frozen=True)
class Load:
    """One university at one load, with the monthly cost of a month that holds that load."""

    students: int
    when: str
    active_students: float
    requests_per_second: float
    read_units_per_second: float
    write_units_per_second: float
    web_vcpus: float
    web_tasks: int
    monthly: dict[str, float]

    @property
    def monthly_total(self) -> float:
        return sum(self.monthly.values())


def web_vcpus(requests_per_second: float, cpu_ms_per_request: float, assumptions: Assumptions) -> float:
    """The web vCPUs that serve `requests_per_second` at the target utilisation."""
    return requests_per_second * cpu_ms_per_request / 1000 / assumptions.target_cpu_utilisation


def web_tasks(vcpus: float, assumptions: Assumptions) -> int:
    return max(assumptions.minimum_web_tasks, math.ceil(round(vcpus / assumptions.web_task_vcpu, 9)))


def load_balancer_capacity_units(requests_per_second: float, assumptions: Assumptions) -> float:
    """ALB LCUs: the larger of processed bytes (1 GB an hour each) and new connections (25 a second)."""
    gigabytes_per_hour = requests_per_second * assumptions.bytes_per_request * 3600 / 1e9
    return max(gigabytes_per_hour, requests_per_second * assumptions.new_connections_per_request / 25)


def university_loads(
    students: int, measured: Measured, assumptions: Assumptions, nodes: RedisNodes
) -> tuple[Load, Load]:
    """A normal month (web tasks sized for its busiest hour, held all month) and a month with
    registration morning (the same, plus the rush's tasks, requests and LCUs for its hours)."""
    prices, hours = assumptions.prices, assumptions.hours_per_month
    read_units = measured.read_units_at(assumptions.cache_hit_rate)
    write_units = measured.write_units_per_request
    cpu_ms = measured.server_cpu_ms_per_request

    def task_hour(vcpu: float, memory_gb: float) -> float:
        return vcpu * prices.fargate_vcpu_hour + memory_gb * prices.fargate_gb_hour

    web_task_hour = task_hour(assumptions.web_task_vcpu, assumptions.web_task_memory_gb)
    normal_active = students * assumptions.normal_active_share
    normal_rate = normal_active * assumptions.normal_requests_per_student_per_minute / 60
    average_rate = normal_rate * assumptions.normal_average_over_busy_hour
    rush_active = students * assumptions.rush_active_share
    rush_rate = rush_active * assumptions.rush_requests_per_student_per_minute / 60
    normal_vcpus, rush_vcpus = web_vcpus(normal_rate, cpu_ms, assumptions), web_vcpus(rush_rate, cpu_ms, assumptions)
    normal_tasks, rush_tasks = web_tasks(normal_vcpus, assumptions), web_tasks(rush_vcpus, assumptions)

    month_requests = average_rate * 3600 * hours
    normal_month = {
        "DynamoDB reads": month_requests * read_units / 1e6 * prices.dynamodb_million_read_units,
        "DynamoDB writes": month_requests * write_units / 1e6 * prices.dynamodb_million_write_units,
        "Fargate web": normal_tasks * web_task_hour * hours,
        "Fargate worker + beat": hours
        * (
            assumptions.worker_tasks * task_hour(assumptions.worker_task_vcpu, assumptions.worker_task_memory_gb)
            + task_hour(assumptions.beat_task_vcpu, assumptions.beat_task_memory_gb)
        ),
        "ElastiCache": nodes.hourly_price(prices) * hours,
        "ALB": hours
        * (prices.alb_hour + load_balancer_capacity_units(average_rate, assumptions) * prices.alb_lcu_hour),
    }
    rush_hours = assumptions.rush_hours_per_month
    extra_requests = max(0.0, rush_rate - average_rate) * 3600 * rush_hours
    extra_units = load_balancer_capacity_units(rush_rate, assumptions) - load_balancer_capacity_units(
        average_rate, assumptions
    )
    rush_month = {
        **normal_month,
        "DynamoDB reads": normal_month["DynamoDB reads"]
        + extra_requests * read_units / 1e6 * prices.dynamodb_million_read_units,
        "DynamoDB writes": normal_month["DynamoDB writes"]
        + extra_requests * write_units / 1e6 * prices.dynamodb_million_write_units,
        "Fargate web": normal_month["Fargate web"] + max(0, rush_tasks - normal_tasks) * web_task_hour * rush_hours,
        "ALB": normal_month["ALB"] + max(0.0, extra_units) * prices.alb_lcu_hour * rush_hours,
    }
    return (
        Load(students, "normal week (busiest hour)", normal_active, normal_rate, normal_rate * read_units,
             normal_rate * write_units, normal_vcpus, normal_tasks, normal_month),
        Load(students, "registration morning (peak minute)", rush_active, rush_rate, rush_rate * read_units,
             rush_rate * write_units, rush_vcpus, rush_tasks, rush_month),
    )  # fmt: skip


def all_loads(measured: Measured, assumptions: Assumptions, nodes: RedisNodes) -> list[Load]:
    return [
        load for size in assumptions.university_sizes for load in university_loads(size, measured, assumptions, nodes)
    ]


def dollars(value: float) -> str:
    return f"${value:,.2f}" if value < 100 else f"${value:,.0f}"


def cost_markdown(measured: Measured, assumptions: Assumptions, nodes: RedisNodes) -> str:
    """The table, what it rests on (the run's figures, then every assumption), and what it leaves out."""
    loads = all_loads(measured, assumptions, nodes)
    prices = assumptions.prices
    items = list(loads[0].monthly)
    per_vcpu = 1000 / measured.server_cpu_ms_per_request * assumptions.target_cpu_utilisation
    lines = [
        f"Computed by `benchmarks/cost_model.py` from the {measured.run}, with the assumptions listed below "
        f"({prices.label()}). Each cost is a month's: a normal month, or a month holding registration morning "
        f"(the normal month plus {assumptions.rush_hours_per_month:g} hours at the rush's rate). Web tasks are "
        f"{assumptions.web_task_vcpu:g} vCPU / {assumptions.web_task_memory_gb:g} GiB, sized at "
        f"{assumptions.target_cpu_utilisation:.0%} CPU on the registration-week mix's server CPU per request "
        f"(the mix is what students do): {measured.server_cpu_ms_per_request:.2f} ms, so one vCPU serves "
        f"{per_vcpu:,.0f} requests a second.",
        "",
        "| students | load | active students | req/s | read units/s | write units/s | web tasks | "
        + " | ".join(items)
        + " | month's total |",
        "|---" * (8 + len(items)) + "|",
    ]
    for load in loads:
        lines.append(
            f"| {load.students:,} | {load.when} | {load.active_students:,.0f} | {load.requests_per_second:,.0f} "
            f"| {load.read_units_per_second:,.0f} | {load.write_units_per_second:,.0f} | {load.web_tasks} | "
            + " | ".join(dollars(load.monthly[item]) for item in items)
            + f" | {dollars(load.monthly_total)} |"
        )
    lines += ["", *capacity_notes(loads, measured, assumptions), "", "Measured (the product's configuration):", ""]
    lines += measured_lines(measured, assumptions)
    lines += ["", "Assumed (`benchmarks/cost_assumptions.py`):", "", *assumption_lines(assumptions)]
    lines += [
        f"- ElastiCache (infra/stack.yaml's defaults): cache {nodes.cache_node_type} and broker "
        f"{nodes.broker_node_type}, {nodes.nodes_per_group} node(s) each.",
        "",
        f"Prices ({prices.label()}):",
        "",
        *assumption_lines(prices),
    ]
    return "\n".join(lines) + "\n"


def capacity_notes(loads: list[Load], measured: Measured, assumptions: Assumptions) -> list[str]:
    """What the busiest load implies beyond the table: the cached-list floor, the rush opening's
    heavier requests, DynamoDB's on-demand start, and what the table leaves out."""
    busiest = max(loads, key=lambda load: load.requests_per_second)
    floor = web_tasks(
        web_vcpus(busiest.requests_per_second, measured.cached_list_cpu_ms_per_request, assumptions), assumptions
    )
    notes = [
        f"- The busiest load, {busiest.students:,} students on {busiest.when}, needs {busiest.web_tasks} web tasks "
        f"({busiest.web_vcpus:,.1f} vCPU at {assumptions.target_cpu_utilisation:.0%}). Were every request a cached "
        f"course list ({measured.cached_list_cpu_ms_per_request:.2f} ms of CPU each on {measured.server}), {floor} "
        "would do: the floor, not the plan.",
    ]
    if measured.rush_opening_cpu_ms_per_request and measured.rush_opening_read_units_per_request is not None:
        opening_vcpus = web_vcpus(busiest.requests_per_second, measured.rush_opening_cpu_ms_per_request, assumptions)
        notes.append(
            f"- The run's rush opening (its first seconds, when the enrolls arrive together) cost "
            f"{measured.rush_opening_cpu_ms_per_request:.2f} ms of CPU and "
            f"{measured.rush_opening_read_units_per_request:.2f} read units per request; were the whole peak like it, "
            f"it would need {web_tasks(opening_vcpus, assumptions)} web tasks and "
            f"{busiest.requests_per_second * measured.rush_opening_read_units_per_request:,.0f} read units a second."
        )
    if (
        busiest.write_units_per_second > NEW_TABLE_WRITE_UNITS_PER_SECOND
        or busiest.read_units_per_second > NEW_TABLE_READ_UNITS_PER_SECOND
    ):
        notes.append(
            f"- A new on-demand table serves {NEW_TABLE_WRITE_UNITS_PER_SECOND:,} write and "
            f"{NEW_TABLE_READ_UNITS_PER_SECOND:,} read units a second at once, then up to double its previous peak; "
            f"{busiest.write_units_per_second:,.0f} write and {busiest.read_units_per_second:,.0f} read units a second "
            "(over all tables) call for warm throughput on the busiest tables before the first registration morning."
        )
    notes.append(
        "- Left out: sign-ins' password hashing (the benchmark hashes with 1,000 PBKDF2 iterations, production with "
        "Django's default, hundreds of times more CPU per sign-in: students signing in at the opening need more web "
        "tasks than this), the worker's write units (not measured), DynamoDB storage and backups, NAT gateways or VPC "
        "endpoints, CloudWatch, Secrets Manager and data transfer out."
    )
    return notes


def measured_lines(measured: Measured, assumptions: Assumptions) -> list[str]:
    hit_rate = measured.cache_hit_rate if assumptions.cache_hit_rate is None else assumptions.cache_hit_rate
    uncached = measured.uncached_read_units_per_request
    return [
        f"- Run: {measured.run}.",
        f"- Server CPU per request, registration-week mix: {measured.server_cpu_ms_per_request:.2f} ms.",
        f"- Cached course list at the peak on {measured.server}: {measured.cached_list_requests_per_second:,.0f} "
        f"req/s on the run's machine, {measured.cached_list_cpu_ms_per_request:.2f} ms of CPU each "
        f"({1000 / measured.cached_list_cpu_ms_per_request:,.0f} req/s per CPU).",
        f"- DynamoDB calls per request: {measured.dynamodb_calls_per_request:.3f}; write units per request (consumed, "
        f"as DynamoDB reported them): {measured.write_units_per_request:.3f}.",
        f"- Read units per request (consumed): {measured.read_units_per_request:.3f} by the web server and "
        f"{measured.worker_read_units_per_request:.3f} by the worker, at a cache hit rate of "
        f"{format_hit_rate(measured.cache_hit_rate)}; "
        + (
            f"{uncached:.3f} with the cache off, so {measured.cacheable_read_units():.3f} of them per request are "
            "the cache's to save"
            if uncached is not None
            else "no uncached run, so the hit rate does not change them"
        )
        + f". At the model's hit rate of {format_hit_rate(hit_rate)}: "
        f"{measured.read_units_at(assumptions.cache_hit_rate):.3f} per request.",
    ]


def write_cost_table(path: Path, markdown: str) -> None:
    """Replaces what lies between the cost-model markers of `path`, and nothing else."""
    try:
        path.write_text(replace_between(path.read_text(), *MARKERS, markdown))
    except FileNotFoundError:
        raise MarkerError(f"{path} does not exist") from None
    except MarkerError as error:
        raise MarkerError(f"{path}: {error}") from None


def ensure_deploy_doc_has_markers(path: Path) -> None:
    """Checked before a run, so that a run does not end in a missing marker."""
    try:
        check_marker_pair(path.read_text(), *MARKERS)
    except FileNotFoundError:
        raise MarkerError(f"{path} does not exist (BENCH_DOCS_FILE=off writes no docs file)") from None
    except MarkerError as error:
        raise MarkerError(f"{path}: {error}") from None


def update_deploy_doc(path: Path, results: dict[str, Any], *, source: str) -> str:
    """After a full `make bench`: the run's cost table into `path`; what happened, in a sentence."""
    try:
        measured = Measured.from_results(results, source=source)
    except MissingFiguresError as error:
        return f"The cost table in {path} is left as it was: {error}."
    write_cost_table(path, cost_markdown(measured, Assumptions(), redis_nodes()))
    return f"The cost table in {path} is updated."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The cost and capacity table from a make bench run's bench.json.")
    parser.add_argument("run", type=Path, help="the run's output directory (or its bench.json)")
    parser.add_argument("--write", action="store_true", help="write the table between the markers of the docs file")
    parser.add_argument("--docs-file", type=Path, default=COST_DOCS_FILE, help=f"default: {COST_DOCS_FILE}")
    arguments = parser.parse_args(argv)
    bench_json = arguments.run / "bench.json" if arguments.run.is_dir() else arguments.run
    try:
        results = json.loads(bench_json.read_text())
        measured = Measured.from_results(results, source=run_source(bench_json))
        markdown = cost_markdown(measured, Assumptions(), redis_nodes())
        print(markdown)
        if arguments.write:
            write_cost_table(arguments.docs_file, markdown)
            print(f"Written to {arguments.docs_file}.")
    except (OSError, json.JSONDecodeError, KeyError, MissingFiguresError, MarkerError) as error:
        print(
            f"no cost table: {error!r}" if isinstance(error, KeyError) else f"no cost table: {error}", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
