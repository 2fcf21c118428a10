"""What the cost and capacity model (benchmarks/cost_model.py) assumes rather than measures: how
students use the service, the sizes of the Fargate tasks, and AWS's prices. Each constant carries
its reason in its field's metadata, which is also what docs/deploy.md prints beside the table;
change a value here and rerun `python -m benchmarks.cost_model RUN_DIR --write`.

The ElastiCache node types and their count come from infra/stack.yaml's parameter defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

import yaml

from devstack.services import ROOT

STACK_TEMPLATE = ROOT / "infra" / "stack.yaml"


def why(reason: str) -> dict[str, str]:
    """A constant's field metadata: the sentence that justifies it, printed in the docs' list."""
    return {"why": reason}


@dataclass(frozen=True)
class Prices:
    """On-demand list prices in US dollars."""

    as_of: str = field(default="2026-12-02", metadata=why("date of the prices below"))
    region: str = field(
        default="us-east-1", metadata=why("region of the prices below; other regions cost more or less")
    )
    fargate_vcpu_hour: float = field(default=0.04048, metadata=why("Fargate, Linux/x86, per vCPU-hour"))
    fargate_gb_hour: float = field(default=0.004445, metadata=why("Fargate, Linux/x86, per GB of memory per hour"))
    dynamodb_million_read_units: float = field(
        default=0.125, metadata=why("DynamoDB on-demand, per million read request units")
    )
    dynamodb_million_write_units: float = field(
        default=0.625, metadata=why("DynamoDB on-demand, per million write request units")
    )
    elasticache_node_hour: dict[str, float] = field(
        default_factory=lambda: {
            "cache.t4g.small": 0.032,
            "cache.t4g.medium": 0.065,
            "cache.r7g.large": 0.219,
            "cache.r7g.xlarge": 0.437,
        },
        metadata=why("ElastiCache for Redis OSS, on-demand, per node-hour, by node type"),
    )
    alb_hour: float = field(default=0.0225, metadata=why("application load balancer, per hour"))
    alb_lcu_hour: float = field(default=0.008, metadata=why("application load balancer, per LCU-hour"))

    def label(self) -> str:
        return f"prices as of {self.as_of}, {self.region}, check the AWS pricing pages"


@dataclass(frozen=True)
class Assumptions:
    """How the students use the service and how it is run; every figure the run does not measure."""

    university_sizes: tuple[int, ...] = field(
        default=(10_000, 50_000), metadata=why("students enrolled at the university")
    )
    normal_active_share: float = field(
        default=0.05, metadata=why("share of the students using the service in the busiest hour of a normal week")
    )
    normal_requests_per_student_per_minute: float = field(
        default=3.0,
        metadata=why("API requests per active student per minute in a normal week (a page is a few requests)"),
    )
    normal_average_over_busy_hour: float = field(
        default=0.25,
        metadata=why("a normal month's average load as a share of its busiest hour's (nights and weekends are quiet)"),
    )
    rush_active_share: float = field(
        default=0.6, metadata=why("share of the students online in the peak minute of registration morning")
    )
    rush_requests_per_student_per_minute: float = field(
        default=30.0,
        metadata=why(
            "API requests per active student per minute at the rush's peak (refreshing seats, enrolling, retrying)"
        ),
    )
    rush_hours_per_month: float = field(
        default=3.0,
        metadata=why(
            "hours a month at the rush's rate: the scheduled scale-out ahead of the opening and the morning after it "
            "(an upper bound: the peak itself lasts minutes)"
        ),
    )
    hours_per_month: float = field(default=730.0, metadata=why("hours in an average month (AWS's own figure)"))
    web_task_vcpu: float = field(default=1.0, metadata=why("vCPU of a web task (Fargate)"))
    web_task_memory_gb: float = field(default=2.0, metadata=why("memory of a web task, GiB"))
    target_cpu_utilisation: float = field(
        default=0.6,
        metadata=why(
            "web tasks are sized to run at this CPU utilisation at the peak, the headroom for bursts and a lost task"
        ),
    )
    minimum_web_tasks: int = field(default=2, metadata=why("fewest web tasks, one per availability zone"))
    worker_tasks: int = field(default=2, metadata=why("Celery worker tasks, one per availability zone"))
    worker_task_vcpu: float = field(default=0.5, metadata=why("vCPU of a worker task"))
    worker_task_memory_gb: float = field(default=1.0, metadata=why("memory of a worker task, GiB"))
    beat_task_vcpu: float = field(default=0.25, metadata=why("vCPU of the one beat task"))
    beat_task_memory_gb: float = field(default=0.5, metadata=why("memory of the beat task, GiB"))
    cache_hit_rate: float | None = field(
        default=None, metadata=why("cache hit rate in production; none: the run's measured rate")
    )
    bytes_per_request: float = field(
        default=8_000.0,
        metadata=why("bytes through the load balancer per request, both ways (an ALB LCU is 1 GB an hour)"),
    )
    new_connections_per_request: float = field(
        default=0.05,
        metadata=why("new TLS connections per request: browsers keep theirs open (an ALB LCU is 25 a second)"),
    )
    prices: Prices = field(default_factory=Prices, metadata=why("the prices below"))


def assumption_lines(constants: Assumptions | Prices) -> list[str]:
    """One Markdown list item per constant: its name, value and reason."""
    lines = []
    for constant in fields(constants):
        value = getattr(constants, constant.name)
        if isinstance(value, Prices):
            continue
        if isinstance(value, dict):
            value = ", ".join(f"{name} ${price:g}" for name, price in value.items())
        elif isinstance(value, tuple):
            value = ", ".join(f"{item:,}" for item in value)
        elif isinstance(value, float):
            value = f"{value:,g}"
        elif value is None:
            value = "unset"
        lines.append(f"- `{constant.name}` = {value}: {constant.metadata['why']}.")
    return lines


@dataclass(frozen=True)
class RedisNodes:
    """The two Redis groups infra/stack.yaml creates with its default parameters."""

    cache_node_type: str
    broker_node_type: str
    nodes_per_group: int

    def hourly_price(self, prices: Prices) -> float:
        missing = {self.cache_node_type, self.broker_node_type} - set(prices.elasticache_node_hour)
        if missing:
            raise ValueError(
                f"no price for the node type {sorted(missing)} of infra/stack.yaml: add it to "
                "benchmarks/cost_assumptions.py's Prices.elasticache_node_hour"
            )
        by_type = prices.elasticache_node_hour
        return self.nodes_per_group * (by_type[self.cache_node_type] + by_type[self.broker_node_type])


class _TemplateLoader(yaml.SafeLoader):
    """Reads a CloudFormation template, leaving its intrinsic functions (!Ref, !If) unresolved."""


_TemplateLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def redis_nodes(template: Path = STACK_TEMPLATE) -> RedisNodes:
    parameters = yaml.load(template.read_text(), Loader=_TemplateLoader)["Parameters"]
    return RedisNodes(
        cache_node_type=parameters["CacheNodeType"]["Default"],
        broker_node_type=parameters["BrokerNodeType"]["Default"],
        # Multi-AZ (the default) keeps a replica in a second zone: two nodes per group.
        nodes_per_group=2 if parameters["MultiAZ"]["Default"] == "true" else 1,
    )
