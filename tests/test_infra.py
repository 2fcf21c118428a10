"""infra/stack.yaml: lint-clean, its tables are the models', and a stack made from it needs nothing
more from create_indexes. Checked without an AWS account (cfn-lint, moto's CloudFormation)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
import yaml
from cfnlint.decode import decode
from django.core.management import call_command
from django.test import override_settings
from moto import mock_aws

from courseproject.dynamo.client import reset_dynamodb_client
from courseproject.dynamo.models import registered_models
from courseproject.dynamo.tables import cloudformation_tables
from devstack.services import ROOT

TEMPLATE = ROOT / "infra" / "stack.yaml"


def template() -> dict:
    parsed, errors = decode(str(TEMPLATE))
    assert not errors, errors
    return json.loads(json.dumps(parsed))  # plain dicts and lists


def test_cfn_lint_finds_nothing():
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), str(TEMPLATE)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_templates_tables_are_the_models_tables():
    expected = cloudformation_tables(registered_models())
    actual = {
        logical_id: resource
        for logical_id, resource in template()["Resources"].items()
        if resource["Type"] == "AWS::DynamoDB::Table"
    }
    assert actual == expected, (
        "infra/stack.yaml's tables differ from the models; paste the output of "
        "`manage.py cloudformation_tables` into its Resources:\n" + yaml.safe_dump(expected, sort_keys=False)
    )


def test_the_template_keeps_the_broker_apart_from_the_evicting_cache():
    resources = template()["Resources"]
    assert resources["CacheParameterGroup"]["Properties"]["Properties"]["maxmemory-policy"] == "allkeys-lru"
    assert resources["BrokerParameterGroup"]["Properties"]["Properties"]["maxmemory-policy"] == "noeviction"
    for group in ("CacheReplicationGroup", "BrokerReplicationGroup"):
        properties = resources[group]["Properties"]
        assert properties["TransitEncryptionEnabled"] is True
        assert "resolve:secretsmanager" in json.dumps(properties["AuthToken"])


def without_outputs_moto_cannot_resolve(body: dict) -> dict:
    """moto models no ElastiCache in CloudFormation and refuses outputs that read its attributes;
    those outputs go, the resources stay (moto skips them with a warning)."""
    resources = body["Resources"]
    body["Outputs"] = {
        name: output
        for name, output in body["Outputs"].items()
        if not (
            isinstance(output["Value"], dict)
            and "Fn::GetAtt" in output["Value"]
            and resources[output["Value"]["Fn::GetAtt"][0]]["Type"].startswith("AWS::ElastiCache::")
        )
    }
    return body


def apply_time_to_live_as_cloudformation_would(dynamodb, environment: str) -> None:
    """moto's CloudFormation ignores a table's TimeToLiveSpecification (AWS applies it); do it here."""
    for resource in template()["Resources"].values():
        specification = resource.get("Properties", {}).get("TimeToLiveSpecification")
        if resource["Type"] == "AWS::DynamoDB::Table" and specification:
            table_name = resource["Properties"]["TableName"]["Fn::Sub"].replace("${EnvironmentName}", environment)
            dynamodb.update_time_to_live(TableName=table_name, TimeToLiveSpecification=specification)


@pytest.fixture
def aws():
    """moto for every AWS call, the process's DynamoDB client included (pointed at AWS, not Local)."""
    with mock_aws(), override_settings(DYNAMODB_ENDPOINT_URL=None):
        reset_dynamodb_client()
        try:
            yield
        finally:
            reset_dynamodb_client()
    reset_dynamodb_client()


# moto skips the resource types it does not model (ElastiCache, alarms), with a warning each.
@pytest.mark.filterwarnings("ignore:Tried to parse AWS:UserWarning")
def test_a_stack_deployed_from_the_template_passes_create_indexes_check(aws, settings):
    ec2 = boto3.client("ec2", region_name=settings.AWS_REGION)
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(
            VpcId=vpc_id, CidrBlock=f"10.0.{number}.0/24", AvailabilityZone=f"{settings.AWS_REGION}{zone}"
        )["Subnet"]["SubnetId"]
        for number, zone in ((1, "a"), (2, "b"))
    ]
    app_group = ec2.create_security_group(GroupName="app", Description="app", VpcId=vpc_id)["GroupId"]
    cloudformation = boto3.client("cloudformation", region_name=settings.AWS_REGION)
    environment = settings.DYNAMODB_TABLE_PREFIX.removesuffix("-")  # the models' tables are "<prefix>Name"
    cloudformation.create_stack(
        StackName="course-registration",
        TemplateBody=json.dumps(without_outputs_moto_cannot_resolve(template())),
        Parameters=[
            {"ParameterKey": "EnvironmentName", "ParameterValue": environment},
            {"ParameterKey": "VpcId", "ParameterValue": vpc_id},
            {"ParameterKey": "PrivateSubnetIds", "ParameterValue": ",".join(subnets)},
            {"ParameterKey": "AppSecurityGroupId", "ParameterValue": app_group},
            {"ParameterKey": "LoadBalancerFullName", "ParameterValue": "app/course-registration/0123456789abcdef"},
        ],
    )
    stack = cloudformation.describe_stacks(StackName="course-registration")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"

    dynamodb = boto3.client("dynamodb", region_name=settings.AWS_REGION)
    apply_time_to_live_as_cloudformation_would(dynamodb, environment)
    assert sorted(dynamodb.list_tables()["TableNames"]) == sorted(
        model.Meta.table_name for model in registered_models()
    )
    output = io.StringIO()
    call_command("create_indexes", "--check", stdout=output)  # the release step on AWS: raises on drift
    assert "No drift" in output.getvalue(), output.getvalue()


def test_the_template_alarms_on_what_the_runbook_covers():
    alarms = {
        name: resource["Properties"]
        for name, resource in template()["Resources"].items()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    }

    def metrics_of(alarm: dict) -> set[str]:
        if "MetricName" in alarm:
            return {alarm["MetricName"]}
        return {query["MetricStat"]["Metric"]["MetricName"] for query in alarm["Metrics"] if "MetricStat" in query}

    watched = {name: metrics_of(alarm) for name, alarm in alarms.items()}
    assert watched["LatencyP99Alarm"] == {"TargetResponseTime"}
    assert alarms["LatencyP99Alarm"]["ExtendedStatistic"] == "p99"
    assert watched["ServerErrorRateAlarm"] >= {"HTTPCode_Target_5XX_Count", "RequestCount"}
    assert watched["CacheHitRateAlarm"] == {"CacheHitRate"}
    assert alarms["CacheHitRateAlarm"]["Namespace"] == "CourseRegistration"  # pushed by courseproject.push_metrics
    assert watched["DynamoDBThrottleAlarm"] == {"ThrottledRequests"}
    assert watched["CacheEvictionsAlarm"] == {"Evictions"}
    assert watched["CacheMemoryAlarm"] == watched["BrokerMemoryAlarm"] == {"DatabaseMemoryUsagePercentage"}
    assert watched["WaitlistPromotionLagAlarm"] == {"WaitlistStalledSeatAge"}  # pushed by the waitlist sweep
    lag = alarms["WaitlistPromotionLagAlarm"]
    assert (lag["Namespace"], lag["Dimensions"][0]["Name"], lag["Statistic"], lag["Period"]) == (
        "CourseRegistration",
        "Environment",
        "Maximum",
        60,
    )
    assert (lag["Threshold"], lag["EvaluationPeriods"], lag["DatapointsToAlarm"]) == (120, 2, 2)
    assert lag["TreatMissingData"] == "breaching"  # no figure: the sweep or its workers stopped
    runbook = (ROOT / "docs" / "deploy.md").read_text()
    for name, alarm in alarms.items():
        assert alarm["AlarmName"]["Fn::Sub"].removeprefix("${EnvironmentName}-") in runbook, (
            f"{name} has no runbook entry"
        )
