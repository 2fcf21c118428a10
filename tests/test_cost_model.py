"""The cost and capacity model (benchmarks/cost_model.py) as a specification: its figures follow the
run's measurements and the stated assumptions by its formulas, and it writes only between its
markers in docs/deploy.md."""

from __future__ import annotations

import copy
import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import decode

from benchmarks import cost_model
from benchmarks.cost_assumptions import STACK_TEMPLATE, Assumptions, Prices, RedisNodes, redis_nodes
from benchmarks.cost_measurements import Measured, MissingFiguresError
from benchmarks.cost_model import MARKERS, cost_markdown, university_loads, update_deploy_doc, write_cost_table
from benchmarks.report import MarkerError, check_marker_pair
from benchmarks.variables import COST_DOCS_FILE, BenchVariables

SERVER = "granian, one process per core x 8 threads (the product's)"
NODES = RedisNodes(cache_node_type="cache.r7g.large", broker_node_type="cache.t4g.small", nodes_per_group=2)
BEGIN, END = MARKERS
DEPLOY = f"""# Deploying on AWS

Hand-written steps.

## Cost and capacity

Hand-written introduction.

{BEGIN}
old table
{END}

Hand-written closing words.
"""


def bench_results(
    *, cpu_ms: float = 2.0, read_units: float = 0.3, write_units: float = 0.5, hit_rate: float = 0.99
) -> dict[str, Any]:
    """A bench.json of the shape `make bench` writes (trimmed to what the model reads and a little around it)."""
    return {
        "kind": "bench",
        "finished_at": "2026-12-01T23:35:20+00:00",
        "machine": "2 cores (Intel(R) Xeon(R) Processor), 24 GiB, Python 3.11.7",
        "configurations": {
            "product": {
                "requests": 11188,
                "cache_hit_rate": hit_rate,
                "dynamodb_calls_per_request": 0.14,
                "read_capacity_per_request": read_units,
                "write_capacity_per_request": write_units,
                "worker_dynamodb_calls_per_request": 0.13,
                "worker_read_capacity_per_request": 0.03,
                "server_cpu_ms_per_request": cpu_ms,
            },
            "uncached": {"cache_hit_rate": None, "read_capacity_per_request": 4.2, "server_cpu_ms_per_request": 7.5},
        },
        "peak": {
            "servers": {
                SERVER: {
                    "cached course list": {"requests_per_second": 1594.0, "cpu_ms_per_request": 0.99},
                    "bare": {"requests_per_second": 5363.3, "cpu_ms_per_request": 0.35},
                }
            },
            "product_server": SERVER,
        },
        "rush": {"opening": {"server": {"server_cpu_ms_per_request": 7.0, "read_capacity_per_request": 3.1}}},
    }


def measured(**figures: float) -> Measured:
    return Measured.from_results(bench_results(**figures), source="test")


def rush_load(students: int = 50_000, assumptions: Assumptions | None = None, **figures: float) -> cost_model.Load:
    return university_loads(students, measured(**figures), assumptions or Assumptions(), NODES)[1]


def test_doubling_the_cpu_per_request_doubles_the_web_vcpus_and_the_rush_needs_tasks_by_the_formula():
    assumptions = Assumptions()
    single, double = rush_load(cpu_ms=2.0), rush_load(cpu_ms=4.0)

    assert double.web_vcpus == pytest.approx(2 * single.web_vcpus)
    rate = 50_000 * assumptions.rush_active_share * assumptions.rush_requests_per_student_per_minute / 60
    for load, cpu_ms in ((single, 2.0), (double, 4.0)):
        vcpus = rate * cpu_ms / 1000 / assumptions.target_cpu_utilisation
        assert load.web_tasks == max(assumptions.minimum_web_tasks, math.ceil(vcpus / assumptions.web_task_vcpu))
    assert double.web_tasks > single.web_tasks
    assert double.monthly["Fargate web"] > single.monthly["Fargate web"]


def test_a_quiet_university_keeps_one_web_task_per_zone():
    normal = university_loads(10_000, measured(cpu_ms=0.001), Assumptions(), NODES)[0]

    assert normal.web_tasks == Assumptions().minimum_web_tasks


def test_a_higher_hit_rate_lowers_the_read_cost_and_more_read_units_raise_it():
    at_measured = rush_load()
    at_higher = rush_load(assumptions=Assumptions(cache_hit_rate=0.999))
    with_more_reads = rush_load(read_units=0.6)

    assert at_higher.monthly["DynamoDB reads"] < at_measured.monthly["DynamoDB reads"]
    assert at_higher.read_units_per_second < at_measured.read_units_per_second
    assert with_more_reads.monthly["DynamoDB reads"] > at_measured.monthly["DynamoDB reads"]
    assert with_more_reads.monthly["DynamoDB writes"] == at_measured.monthly["DynamoDB writes"]


def test_at_the_measured_hit_rate_the_read_units_are_the_runs_and_the_cache_saves_what_the_uncached_run_read_more():
    figures = measured(read_units=0.3, hit_rate=0.99)

    assert figures.read_units_at(None) == pytest.approx(0.3 + 0.03)
    assert figures.cacheable_read_units() == pytest.approx((4.2 - 0.3) / 0.99)
    assert figures.read_units_at(0.0) == pytest.approx(4.2 + 0.03)


def test_the_figures_of_a_known_input_are_the_formulas():
    assumptions = Assumptions()
    prices, hours = assumptions.prices, assumptions.hours_per_month
    normal, rush = university_loads(10_000, measured(), assumptions, NODES)
    read_units, write_units = 0.3 + 0.03, 0.5  # the server's and the worker's; the run's hit rate

    busy_rate = 10_000 * assumptions.normal_active_share * assumptions.normal_requests_per_student_per_minute / 60
    average_rate = busy_rate * assumptions.normal_average_over_busy_hour
    month_requests = average_rate * 3600 * hours
    assert normal.requests_per_second == pytest.approx(busy_rate)
    assert normal.read_units_per_second == pytest.approx(busy_rate * read_units)
    assert normal.monthly["DynamoDB reads"] == pytest.approx(month_requests * read_units / 1e6 * 0.125)
    assert normal.monthly["DynamoDB writes"] == pytest.approx(month_requests * write_units / 1e6 * 0.625)
    web_task_hour = assumptions.web_task_vcpu * prices.fargate_vcpu_hour + assumptions.web_task_memory_gb * (
        prices.fargate_gb_hour
    )
    assert normal.monthly["Fargate web"] == pytest.approx(normal.web_tasks * web_task_hour * hours)
    assert normal.monthly["ElastiCache"] == pytest.approx(2 * (0.219 + 0.032) * hours)
    gigabytes_an_hour = average_rate * assumptions.bytes_per_request * 3600 / 1e9
    capacity_units = max(gigabytes_an_hour, average_rate * assumptions.new_connections_per_request / 25)
    assert normal.monthly["ALB"] == pytest.approx(hours * (prices.alb_hour + capacity_units * prices.alb_lcu_hour))
    assert normal.monthly_total == pytest.approx(sum(normal.monthly.values()))

    rush_rate = 10_000 * assumptions.rush_active_share * assumptions.rush_requests_per_student_per_minute / 60
    extra_requests = (rush_rate - average_rate) * 3600 * assumptions.rush_hours_per_month
    assert rush.requests_per_second == pytest.approx(rush_rate)
    assert rush.monthly["DynamoDB writes"] == pytest.approx(
        (month_requests + extra_requests) * write_units / 1e6 * prices.dynamodb_million_write_units
    )
    extra_task_hours = (rush.web_tasks - normal.web_tasks) * assumptions.rush_hours_per_month
    assert rush.monthly["Fargate web"] == pytest.approx((normal.web_tasks * hours + extra_task_hours) * web_task_hour)
    assert rush.monthly["Fargate worker + beat"] == normal.monthly["Fargate worker + beat"]


def test_cheaper_prices_lower_the_total():
    assumptions = Assumptions()
    cheaper = replace(assumptions, prices=replace(Prices(), fargate_vcpu_hour=assumptions.prices.fargate_vcpu_hour / 2))

    assert rush_load(assumptions=cheaper).monthly_total < rush_load(assumptions=assumptions).monthly_total


def test_the_table_changes_when_the_measured_figures_change():
    assumptions = Assumptions()

    def table(**figures: float) -> str:
        return cost_markdown(measured(**figures), assumptions, NODES)

    assert table() != table(cpu_ms=4.0)
    assert table() != table(write_units=1.0)
    assert "| 50,000 | registration morning" in table()
    assert f"prices as of {assumptions.prices.as_of}, us-east-1, check the AWS pricing pages" in table()
    for name in ("rush_requests_per_student_per_minute", "normal_requests_per_student_per_minute", "fargate_vcpu_hour"):
        assert f"`{name}`" in table()


def test_the_writer_replaces_only_the_text_between_the_markers(tmp_path: Path):
    deploy = tmp_path / "deploy.md"
    deploy.write_text(DEPLOY)

    write_cost_table(deploy, "| new | table |\n")

    assert deploy.read_text() == DEPLOY.replace("old table", "| new | table |")


@pytest.mark.parametrize("missing", [BEGIN, END])
def test_a_missing_marker_fails_clearly_and_leaves_the_file_alone(tmp_path: Path, missing: str):
    deploy = tmp_path / "deploy.md"
    deploy.write_text(DEPLOY.replace(missing, ""))

    with pytest.raises(MarkerError, match=f"{deploy}: the marker {missing} is missing"):
        write_cost_table(deploy, "new table")
    with pytest.raises(MarkerError, match="is missing"):
        cost_model.ensure_deploy_doc_has_markers(deploy)
    assert deploy.read_text() == DEPLOY.replace(missing, "")


def test_a_missing_docs_file_fails_clearly(tmp_path: Path):
    with pytest.raises(MarkerError, match="does not exist"):
        write_cost_table(tmp_path / "nowhere.md", "new table")


def test_the_repositorys_deploy_guide_has_the_markers_once_each():
    check_marker_pair(COST_DOCS_FILE.read_text(), *MARKERS)


def test_a_run_without_the_product_leaves_the_table_as_it_was(tmp_path: Path):
    deploy = tmp_path / "deploy.md"
    deploy.write_text(DEPLOY)
    results = bench_results()
    del results["configurations"]["product"]

    message = update_deploy_doc(deploy, results, source="test")

    assert "left as it was" in message and "no product configuration" in message
    assert deploy.read_text() == DEPLOY
    with pytest.raises(MissingFiguresError):
        Measured.from_results(results, source="test")


def test_a_run_without_the_uncached_configuration_keeps_its_read_units_whatever_the_hit_rate():
    results = copy.deepcopy(bench_results())
    del results["configurations"]["uncached"]
    figures = Measured.from_results(results, source="test")

    assert figures.read_units_at(0.5) == figures.read_units_at(None) == pytest.approx(0.3 + 0.03)


def test_the_command_prints_the_table_and_writes_it_between_the_markers(tmp_path: Path, capsys):
    (tmp_path / "bench.json").write_text(json.dumps(bench_results()))
    deploy = tmp_path / "deploy.md"
    deploy.write_text(DEPLOY)

    assert cost_model.main([str(tmp_path), "--write", "--docs-file", str(deploy)]) == 0

    printed = capsys.readouterr().out
    written = deploy.read_text()
    assert "| 10,000 | normal week" in printed and "| 10,000 | normal week" in written
    assert written.startswith(DEPLOY.partition(BEGIN)[0]) and written.endswith(DEPLOY.partition(END)[2])
    # A run outside the repository is named without its path, which would mean nothing to a reader.
    assert "(its bench.json)" in written and str(tmp_path) not in written


def test_the_command_fails_clearly_on_a_missing_run(tmp_path: Path, capsys):
    assert cost_model.main([str(tmp_path)]) == 1
    assert "no cost table" in capsys.readouterr().err


def test_only_a_run_that_writes_the_docs_writes_the_cost_table(monkeypatch):
    monkeypatch.delenv("BENCH_DOCS_FILE", raising=False)
    assert BenchVariables(quick=False).cost_docs_file() == COST_DOCS_FILE
    assert BenchVariables(quick=True).cost_docs_file() is None
    monkeypatch.setenv("BENCH_DOCS_FILE", "off")
    assert BenchVariables(quick=False).cost_docs_file() is None


def test_the_redis_nodes_are_the_templates_defaults():
    parameters = decode(str(STACK_TEMPLATE))[0]["Parameters"]

    nodes = redis_nodes()

    assert nodes.cache_node_type == parameters["CacheNodeType"]["Default"]
    assert nodes.broker_node_type == parameters["BrokerNodeType"]["Default"]
    assert nodes.nodes_per_group == (2 if parameters["MultiAZ"]["Default"] == "true" else 1)
    assert nodes.hourly_price(Prices()) > 0


def test_a_node_type_without_a_price_fails_clearly(tmp_path: Path):
    template = tmp_path / "stack.yaml"
    template.write_text(
        "Parameters:\n  CacheNodeType: {Default: cache.x9.huge}\n  BrokerNodeType: {Default: cache.t4g.small}\n"
        '  MultiAZ: {Default: "false"}\nResources:\n  Cache: {Properties: {Type: !Ref CacheNodeType}}\n'
    )
    nodes = redis_nodes(template)

    assert nodes.nodes_per_group == 1
    with pytest.raises(ValueError, match=r"no price for the node type \['cache.x9.huge'\]"):
        nodes.hourly_price(Prices())
