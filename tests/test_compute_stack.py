"""infra/compute.yaml: lint-clean, its content says what docs/deploy.md promises (target health on the
liveness path, one beat, scaling, least-privilege roles, alarms), its containers' environment is one
the production settings accept, and moto's CloudFormation creates what it models of it."""

# Longer than 300 lines: the specification of one template, section by section as the template
# reads (load balancer, services, environment, roles, scaling, moto), kept next to each other.

from __future__ import annotations

import json
import re
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import boto3
import pytest
from cfnlint.decode import decode
from django.conf import settings
from moto import mock_aws

from courseproject.dynamo.models import registered_models
from courseproject.observability.queues import celery_queue_names
from devstack.services import ROOT

TEMPLATE = ROOT / "infra" / "compute.yaml"
REGION = "us-east-1"


def template() -> dict:
    parsed, errors = decode(str(TEMPLATE))
    assert not errors, errors
    return json.loads(json.dumps(parsed))  # plain dicts and lists


def resources_of_type(body: dict, resource_type: str) -> dict[str, dict]:
    return {name: resource for name, resource in body["Resources"].items() if resource["Type"] == resource_type}


def container(body: dict, task_definition: str) -> dict:
    [definition] = body["Resources"][task_definition]["Properties"]["ContainerDefinitions"]
    return definition


def statements(body: dict, role: str) -> dict[str, dict]:
    [policy] = body["Resources"][role]["Properties"]["Policies"]
    return {statement["Sid"]: statement for statement in policy["PolicyDocument"]["Statement"]}


def actions_of(statement: dict) -> set[str]:
    actions = statement["Action"]
    return {actions} if isinstance(actions, str) else set(actions)


def granted(body: dict, role: str, action: str) -> set[str]:
    """The resources (as written: a !Sub string or "*") on which `role` may do `action`."""
    found: set[str] = set()
    for statement in statements(body, role).values():
        if action in actions_of(statement):
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            found.update(resource["Fn::Sub"] if isinstance(resource, dict) else resource for resource in resources)
    return found


def table_arn(table: str) -> str:
    return f"arn:${{AWS::Partition}}:dynamodb:${{AWS::Region}}:${{AWS::AccountId}}:table/${{EnvironmentName}}-{table}"


MODEL_TABLES = sorted(
    model.Meta.table_name.removeprefix(settings.DYNAMODB_TABLE_PREFIX) for model in registered_models()
)


def test_cfn_lint_finds_nothing():
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), str(TEMPLATE)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- The load balancer ---------------------------------------------------------------------------


def test_targets_are_checked_on_the_liveness_path_not_the_readiness_view():
    group = template()["Resources"]["WebTargetGroup"]["Properties"]
    assert (group["HealthCheckPath"], group["Matcher"]["HttpCode"]) == ("/api/live", "200")
    assert (group["Port"], group["TargetType"]) == (8000, "ip")


def test_the_balancer_closes_idle_connections_before_the_web_server_does():
    attributes = {
        attribute["Key"]: attribute["Value"]
        for attribute in template()["Resources"]["LoadBalancer"]["Properties"]["LoadBalancerAttributes"]
        if "Key" in attribute
    }
    web_server_header_read_timeout = 60  # courseproject/serve.py: header_read_timeout=60_000 ms
    assert int(attributes["idle_timeout.timeout_seconds"]) == 50 < web_server_header_read_timeout
    assert "header_read_timeout=60_000" in (ROOT / "courseproject" / "serve.py").read_text()


def test_access_logs_are_optional():
    body = template()
    assert body["Conditions"]["HasAccessLogBucket"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AccessLogBucket"}, ""]}]}
    assert body["Parameters"]["AccessLogBucket"]["Default"] == ""
    bucket = [
        attribute
        for attribute in body["Resources"]["LoadBalancer"]["Properties"]["LoadBalancerAttributes"]
        if "Fn::If" in attribute and attribute["Fn::If"][1]["Key"] == "access_logs.s3.bucket"
    ]
    assert bucket and bucket[0]["Fn::If"][0] == "HasAccessLogBucket"


def test_https_serves_with_the_certificate_and_http_redirects_to_it():
    resources = template()["Resources"]
    https = resources["HttpsListener"]["Properties"]
    assert (https["Protocol"], https["Port"]) == ("HTTPS", 443)
    assert https["Certificates"] == [{"CertificateArn": {"Ref": "CertificateArn"}}]
    assert https["DefaultActions"] == [{"Type": "forward", "TargetGroupArn": {"Ref": "WebTargetGroup"}}]
    http = resources["HttpListener"]["Properties"]
    assert (http["Protocol"], http["Port"]) == ("HTTP", 80)
    [redirect] = http["DefaultActions"]
    assert redirect["Type"] == "redirect"
    assert redirect["RedirectConfig"]["Protocol"] == "HTTPS"
    assert redirect["RedirectConfig"]["Port"] == "443"
    assert redirect["RedirectConfig"]["StatusCode"] == "HTTP_301"


def test_only_the_balancer_reaches_the_tasks():
    [ingress] = template()["Resources"]["TaskSecurityGroup"]["Properties"]["SecurityGroupIngress"]
    assert ingress["SourceSecurityGroupId"] == {"Ref": "LoadBalancerSecurityGroup"}
    assert (ingress["FromPort"], ingress["ToPort"]) == (8000, 8000)


# --- Services and task definitions ---------------------------------------------------------------


def test_beat_runs_as_exactly_one_task_and_a_deploy_never_runs_two():
    beat = template()["Resources"]["BeatService"]["Properties"]
    assert beat["DesiredCount"] == 1
    assert beat["DeploymentConfiguration"] == {"MaximumPercent": 100, "MinimumHealthyPercent": 0}
    autoscaled = {
        target["Properties"]["ResourceId"]["Fn::Sub"]
        for target in resources_of_type(template(), "AWS::ApplicationAutoScaling::ScalableTarget").values()
    }
    assert not any("BeatService" in resource_id for resource_id in autoscaled)


def test_each_service_runs_its_role_of_the_image():
    body = template()
    commands = {name: container(body, name)["Command"] for name in resources_of_type(body, "AWS::ECS::TaskDefinition")}
    assert commands == {
        "WebTaskDefinition": ["web"],
        "WorkerTaskDefinition": ["worker"],
        "WaitlistWorkerTaskDefinition": ["worker"],
        "BeatTaskDefinition": ["beat"],
        "ReleaseTaskDefinition": ["release"],
    }
    services = {
        name: service["Properties"]["TaskDefinition"]["Ref"]
        for name, service in resources_of_type(body, "AWS::ECS::Service").items()
    }
    assert services == {
        "WebService": "WebTaskDefinition",
        "WorkerService": "WorkerTaskDefinition",
        "WaitlistWorkerService": "WaitlistWorkerTaskDefinition",
        "BeatService": "BeatTaskDefinition",
    }  # the release task runs with `aws ecs run-task`, never as a service
    assert body["Outputs"]["ReleaseTaskDefinitionArn"]["Value"] == {"Ref": "ReleaseTaskDefinition"}


def test_the_workers_consume_every_queue_tasks_are_routed_to_and_each_the_metrics_queue():
    body = template()
    consumed: dict[str, set[str]] = {}
    for task_definition in ("WorkerTaskDefinition", "WaitlistWorkerTaskDefinition"):
        environment = {item["Name"]: item["Value"] for item in container(body, task_definition)["Environment"]}
        consumed[task_definition] = set(environment["CELERY_WORKER_QUEUES"].split(","))
    assert set().union(*consumed.values()) == set(celery_queue_names())
    assert all("metrics" in queues for queues in consumed.values())
    assert "waitlist" not in consumed["WorkerTaskDefinition"]  # promotions never wait behind emails


def test_every_role_logs_to_its_own_group_with_a_retention():
    body = template()
    groups = resources_of_type(body, "AWS::Logs::LogGroup")
    used = []
    for name in resources_of_type(body, "AWS::ECS::TaskDefinition"):
        logging = container(body, name)["LogConfiguration"]
        assert logging["LogDriver"] == "awslogs"
        used.append(logging["Options"]["awslogs-group"]["Ref"])
    assert sorted(used) == sorted(groups)  # one each, none shared
    assert all(group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"} for group in groups.values())


# --- Environment and secrets ---------------------------------------------------------------------

SECRET_NAMES = {"DJANGO_SECRET_KEY", "JWT_SIGNING_KEY", "REDIS_AUTH_TOKEN", "CELERY_BROKER_AUTH_TOKEN", "METRICS_TOKEN"}
PARAMETER_VALUES = {
    "EnvironmentName": "prod",
    "ApiDomainName": "api.registration.example.edu",
    "SiteUrl": "https://registration.example.edu",
    "DefaultFromEmail": "Course Registration <registration@example.edu>",
    "AllowedEmailDomains": "example.edu",
    "UniversityTimeZone": "America/New_York",
    "CacheEndpoint": "cache.example.internal",
    "BrokerEndpoint": "broker.example.internal",
    "Cluster": "prod-course-registration",
    "WebService.Name": "web",
    "AWS::Region": REGION,
}
# What Secrets Manager would put in each secret variable: 64 letters and digits, like the generated ones.
SECRET_VALUES = {name: f"{index}Qk7vXw2Lp9Rt4Yz8Mn3Bc6Df1Gh5Js0" * 2 for index, name in enumerate(sorted(SECRET_NAMES))}


def resolved(value: Any, body: dict) -> str:
    """A container variable's value as ECS would see it, with PARAMETER_VALUES and parameter defaults."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        name = value["Ref"]
        return str(PARAMETER_VALUES.get(name, body["Parameters"].get(name, {}).get("Default")))
    if "Fn::Sub" in value:
        return re.sub(r"\$\{([^}]+)\}", lambda match: resolved({"Ref": match.group(1)}, body), value["Fn::Sub"])
    if "Fn::FindInMap" in value:
        mapping, key, attribute = value["Fn::FindInMap"]
        return body["Mappings"][mapping][resolved(key, body)][attribute]
    raise AssertionError(f"unexpected intrinsic {value}")


def container_environment(body: dict, task_definition: str) -> dict[str, str]:
    definition = container(body, task_definition)
    environment = {item["Name"]: resolved(item["Value"], body) for item in definition["Environment"]}
    environment.update({item["Name"]: SECRET_VALUES[item["Name"]] for item in definition["Secrets"]})
    return environment


def test_secrets_come_from_secrets_manager_never_from_the_environment_list():
    body = template()
    readable = {
        json.dumps(resource, sort_keys=True)
        for resource in statements(body, "ExecutionRole")["ReadTheSecretsIntoTheEnvironment"]["Resource"]
    }
    for name in resources_of_type(body, "AWS::ECS::TaskDefinition"):
        definition = container(body, name)
        assert not SECRET_NAMES & {item["Name"] for item in definition["Environment"]}, name
        secrets = {item["Name"]: item["ValueFrom"]["Fn::Sub"] for item in definition["Secrets"]}
        assert {"DJANGO_SECRET_KEY", "JWT_SIGNING_KEY", "REDIS_AUTH_TOKEN", "CELERY_BROKER_AUTH_TOKEN"} <= set(secrets)
        for value_from in secrets.values():
            secret = re.fullmatch(r"\$\{(\w+)\}:token::", value_from).group(1)  # the JSON key "token"
            assert json.dumps({"Ref": secret}, sort_keys=True) in readable, (
                f"{name}: the execution role cannot read {secret}"
            )
    assert "METRICS_TOKEN" in {item["Name"] for item in container(body, "WebTaskDefinition")["Secrets"]}


@pytest.mark.parametrize("task_definition", ["WebTaskDefinition", "WorkerTaskDefinition", "BeatTaskDefinition"])
def test_the_production_settings_start_with_each_containers_environment(task_definition):
    environment = container_environment(template(), task_definition)
    show = "settings.REDIS_URL, settings.CELERY_BROKER_URL, settings.DYNAMODB_TABLE_PREFIX, settings.ALLOWED_HOSTS"
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); from django.conf import settings; print({show})"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", **environment},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    cache_token, broker_token = SECRET_VALUES["REDIS_AUTH_TOKEN"], SECRET_VALUES["CELERY_BROKER_AUTH_TOKEN"]
    assert result.stdout.split() == [
        f"rediss://:{cache_token}@cache.example.internal:6379/0",
        f"rediss://:{broker_token}@broker.example.internal:6379/0",
        "prod-",
        "['api.registration.example.edu']",
    ]


def test_the_rush_schedule_acts_on_the_web_services_scalable_target():
    body = template()
    target = body["Resources"]["WebScalableTarget"]["Properties"]["ResourceId"]
    for task_definition in ("WorkerTaskDefinition", "BeatTaskDefinition"):
        environment = {item["Name"]: item["Value"] for item in container(body, task_definition)["Environment"]}
        assert environment["RUSH_SCALING_RESOURCE_ID"] == target  # beat schedules the task, the worker runs it
    worker = {item["Name"]: item["Value"] for item in container(body, "WorkerTaskDefinition")["Environment"]}
    assert worker["RUSH_SCALING_MIN_CAPACITY"] == {"Ref": "RushMinimumCount"}
    assert worker["RUSH_SCALING_RESTORE_MIN_CAPACITY"] == {"Ref": "WebDesiredCount"}
    assert body["Resources"]["WebScalableTarget"]["Properties"]["MinCapacity"] == {"Ref": "WebDesiredCount"}


# --- Roles ----------------------------------------------------------------------------------------

WRITES = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem")


def test_the_roles_name_exactly_the_models_tables():
    body = template()
    for role in ("WebTaskRole", "WorkerTaskRole", "ReleaseTaskRole"):
        tables = {
            resource.rsplit("}-", 1)[1].removesuffix("/index/*") for resource in granted(body, role, "dynamodb:Query")
        }
        assert sorted(tables) == MODEL_TABLES, role


def test_the_web_role_reads_the_audit_log_but_cannot_write_it():
    """Audit records are written by the worker's audit.record_event task (audit/signals.py queues it)."""
    body = template()
    for action in WRITES:
        written = granted(body, "WebTaskRole", action)
        assert table_arn("AuditLog") not in written
        assert written == {table_arn(table) for table in MODEL_TABLES if table != "AuditLog"} | {
            f"{table_arn(table)}/index/*" for table in MODEL_TABLES if table != "AuditLog"
        }
    assert table_arn("AuditLog") in granted(body, "WebTaskRole", "dynamodb:Query")  # the admin's audit pages
    assert table_arn("AuditLog") in granted(body, "WorkerTaskRole", "dynamodb:PutItem")


def test_the_web_role_cannot_send_email_push_metrics_scale_or_scan():
    body = template()
    web_actions = set().union(*(actions_of(statement) for statement in statements(body, "WebTaskRole").values()))
    assert all(action.startswith("dynamodb:") for action in web_actions)
    assert not {"dynamodb:Scan", "dynamodb:CreateTable", "dynamodb:UpdateTable", "dynamodb:DeleteTable"} & web_actions


def test_the_worker_role_sends_email_pushes_its_namespace_and_schedules_scaling():
    body = template()
    worker = statements(body, "WorkerTaskRole")
    assert actions_of(worker["SendEmail"]) == {"ses:SendRawEmail"}  # courseproject/background/email.py
    assert worker["PushTheApplicationsMetrics"]["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": "CourseRegistration"}
    }
    assert actions_of(worker["ScheduleTheRushScaleOut"]) == {
        "application-autoscaling:DescribeScalableTargets",
        "application-autoscaling:DescribeScheduledActions",
        "application-autoscaling:PutScheduledAction",
        "application-autoscaling:DeleteScheduledAction",
    }
    assert not granted(body, "WorkerTaskRole", "dynamodb:Scan")


def test_the_release_role_checks_the_tables_and_beat_has_no_role():
    body = template()
    assert table_arn("Courses") in granted(body, "ReleaseTaskRole", "dynamodb:DescribeTimeToLive")  # create_indexes
    assert table_arn("Courses") in granted(body, "ReleaseTaskRole", "dynamodb:Scan")  # check_counters
    assert not granted(body, "ReleaseTaskRole", "dynamodb:CreateTable")  # the template owns the tables
    assert "TaskRoleArn" not in body["Resources"]["BeatTaskDefinition"]["Properties"]


def test_the_execution_role_reads_only_the_secrets_and_writes_only_the_roles_logs():
    body = template()
    execution = statements(body, "ExecutionRole")
    assert actions_of(execution["ReadTheSecretsIntoTheEnvironment"]) == {"secretsmanager:GetSecretValue"}
    assert "*" not in json.dumps(execution["ReadTheSecretsIntoTheEnvironment"]["Resource"])
    assert {resource["Fn::GetAtt"][0] for resource in execution["WriteTheRolesLogs"]["Resource"]} == set(
        resources_of_type(body, "AWS::Logs::LogGroup")
    )


# --- Scaling and alarms ---------------------------------------------------------------------------


def test_web_tracks_requests_per_task_and_cpu():
    body = template()
    policies = {
        policy["Properties"]["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"][
            "PredefinedMetricType"
        ]: policy["Properties"]
        for policy in resources_of_type(body, "AWS::ApplicationAutoScaling::ScalingPolicy").values()
        if policy["Properties"]["PolicyType"] == "TargetTrackingScaling"
    }
    assert set(policies) == {"ALBRequestCountPerTarget", "ECSServiceAverageCPUUtilization"}
    assert all(policy["ScalingTargetId"] == {"Ref": "WebScalableTarget"} for policy in policies.values())
    label = policies["ALBRequestCountPerTarget"]["TargetTrackingScalingPolicyConfiguration"][
        "PredefinedMetricSpecification"
    ]
    assert label["ResourceLabel"] == {
        "Fn::Sub": "${LoadBalancer.LoadBalancerFullName}/${WebTargetGroup.TargetGroupFullName}"
    }
    target = body["Resources"]["WebScalableTarget"]["Properties"]
    assert target["MaxCapacity"] == {"Ref": "WebMaximumCount"}


def test_workers_scale_out_and_in_on_the_default_queues_length():
    resources = template()["Resources"]
    for alarm, policy, direction in (
        ("WorkerQueueHighAlarm", "WorkerScaleOutPolicy", 1),
        ("WorkerQueueLowAlarm", "WorkerScaleInPolicy", -1),
    ):
        properties = resources[alarm]["Properties"]
        assert (properties["Namespace"], properties["MetricName"]) == ("CourseRegistration", "QueueLength")
        assert {"Name": "Queue", "Value": "celery"} in properties["Dimensions"]
        assert properties["AlarmActions"] == [{"Ref": policy}]
        scaling = resources[policy]["Properties"]
        assert scaling["ScalingTargetId"] == {"Ref": "WorkerScalableTarget"}
        adjustments = [
            step["ScalingAdjustment"] for step in scaling["StepScalingPolicyConfiguration"]["StepAdjustments"]
        ]
        assert all(adjustment * direction > 0 for adjustment in adjustments)
    assert resources["WorkerScalableTarget"]["Properties"]["ResourceId"] == {
        "Fn::Sub": "service/${Cluster}/${WorkerService.Name}"
    }


def test_alarms_watch_unhealthy_targets_and_growing_queues_and_the_dashboard_shows_them():
    body = template()
    alarms = {
        name: resource["Properties"] for name, resource in resources_of_type(body, "AWS::CloudWatch::Alarm").items()
    }
    unhealthy = alarms["UnhealthyTargetsAlarm"]
    assert (unhealthy["Namespace"], unhealthy["MetricName"]) == ("AWS/ApplicationELB", "UnHealthyHostCount")
    assert {dimension["Name"] for dimension in unhealthy["Dimensions"]} == {"LoadBalancer", "TargetGroup"}
    for name, queue in (("QueueBacklogAlarm", "celery"), ("WaitlistQueueBacklogAlarm", "waitlist")):
        assert alarms[name]["MetricName"] == "QueueLength"
        assert {"Name": "Queue", "Value": queue} in alarms[name]["Dimensions"]
        assert alarms[name]["Statistic"] == "Minimum"  # the queue never drained below the threshold
    dashboard = body["Resources"]["ComputeDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"][0]
    json.loads(re.sub(r"\$\{[^}]+\}", "0", dashboard))  # valid JSON once substituted
    for metric in ('"UnHealthyHostCount"', '"QueueLength"', '"RequestCountPerTarget"', '"RunningTaskCount"'):
        assert metric in dashboard
    on_the_dashboard = body["Resources"]["ComputeDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"][1]
    assert {"UnhealthyTargetsAlarm", "QueueBacklogAlarm", "WaitlistQueueBacklogAlarm"} == {
        value["Fn::GetAtt"][0] for value in on_the_dashboard.values() if value["Fn::GetAtt"][1] == "Arn"
    }
    runbook = (ROOT / "docs" / "deploy.md").read_text()
    for name, alarm in alarms.items():
        if "AlarmActions" in alarm and alarm["AlarmActions"] in (
            [{"Ref": "WorkerScaleOutPolicy"}],
            [{"Ref": "WorkerScaleInPolicy"}],
        ):
            continue  # scaling alarms notify no one
        assert f"### {alarm['AlarmName']['Fn::Sub'].removeprefix('${EnvironmentName}-')}" in runbook, name


def test_the_outputs_a_person_needs():
    outputs = template()["Outputs"]
    assert outputs["LoadBalancerDnsName"]["Value"] == {"Fn::GetAtt": ["LoadBalancer", "DNSName"]}
    assert {
        "ClusterName",
        "WebServiceName",
        "WorkerServiceName",
        "BeatServiceName",
        "ReleaseTaskDefinitionArn",
        "TaskSecurityGroupId",
        "TaskSubnetIds",
        "LoadBalancerFullName",
    } <= set(outputs)


# --- Deployed into moto ---------------------------------------------------------------------------

# What moto's CloudFormation does not create, or cannot read an attribute of.
MOTO_LACKS_TYPES = {
    "AWS::ApplicationAutoScaling::ScalableTarget",
    "AWS::ApplicationAutoScaling::ScalingPolicy",
    "AWS::CloudWatch::Alarm",
}
MOTO_LACKS_ATTRIBUTES = {
    ("AWS::ElasticLoadBalancingV2::TargetGroup", "TargetGroupFullName"),
    ("AWS::ElasticLoadBalancingV2::LoadBalancer", "LoadBalancerFullName"),
}
# Created by the test through the API instead, and given to the stack as a parameter.
MOTO_STAND_IN_TYPES = {"AWS::SecretsManager::Secret"}


def references(node: Any) -> set[tuple[str, str | None]]:
    """(resource or parameter, attribute or None) for every Ref, GetAtt and ${...} under `node`."""
    if isinstance(node, list):
        return set().union(*(references(item) for item in node)) if node else set()
    if not isinstance(node, dict):
        return set()
    found: set[tuple[str, str | None]] = set()
    for key, value in node.items():
        if key == "Ref":
            found.add((value, None))
        elif key == "Fn::GetAtt":
            name, attribute = value if isinstance(value, list) else value.split(".", 1)
            found.add((name, attribute))
        elif key == "Fn::Sub":
            text, variables = (value, {}) if isinstance(value, str) else value
            for match in re.findall(r"\$\{([^}!]+)\}", text):
                if match not in variables:
                    name, _, attribute = match.partition(".")
                    found.add((name, attribute or None))
            found |= references(variables)
        else:
            found |= references(value)
    return found


def moto_deployable(body: dict) -> tuple[dict, list[str], list[str]]:
    """The template less what moto cannot create (and whatever depends on it); stand-in resources
    become parameters. Returns (template, skipped, stood in)."""
    resources = body["Resources"]
    stood_in = sorted(name for name, resource in resources.items() if resource["Type"] in MOTO_STAND_IN_TYPES)
    for name in stood_in:
        del resources[name]
        body["Parameters"][name] = {"Type": "String"}
    types = {name: resource["Type"] for name, resource in resources.items()}
    skipped = {name for name, resource_type in types.items() if resource_type in MOTO_LACKS_TYPES}

    def needs_what_moto_lacks(node: Any) -> bool:
        return any(
            target in skipped or (types.get(target), attribute) in MOTO_LACKS_ATTRIBUTES
            for target, attribute in references(node)
        )

    while more := {name for name in resources if name not in skipped and needs_what_moto_lacks(resources[name])}:
        skipped |= more
    body["Resources"] = {name: resource for name, resource in resources.items() if name not in skipped}
    body["Outputs"] = {name: output for name, output in body["Outputs"].items() if not needs_what_moto_lacks(output)}
    return body, sorted(skipped), stood_in


@pytest.fixture
def network():
    with mock_aws():
        ec2 = boto3.client("ec2", region_name=REGION)
        vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [
            ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.0.{number}.0/24", AvailabilityZone=f"{REGION}{zone}")[
                "Subnet"
            ]["SubnetId"]
            for number, zone in ((1, "a"), (2, "b"), (3, "a"), (4, "b"))
        ]
        app_group = ec2.create_security_group(GroupName="app", Description="app", VpcId=vpc_id)["GroupId"]
        yield {"vpc": vpc_id, "public": subnets[:2], "private": subnets[2:], "app_group": app_group}


def test_moto_creates_the_stack_and_it_answers_with_the_load_balancers_name(network):
    body, skipped, stood_in = moto_deployable(template())
    assert {"LoadBalancer", "HttpsListener", "HttpListener", "WebService", "BeatService"} <= set(body["Resources"])
    warnings.warn(f"moto's CloudFormation cannot create {', '.join(skipped)}: skipped", stacklevel=1)
    warnings.warn(f"created through the API and passed as parameters: {', '.join(stood_in)}", stacklevel=1)

    secrets = boto3.client("secretsmanager", region_name=REGION)
    secret_arns = {
        name: secrets.create_secret(Name=f"prod/{name}", SecretString=json.dumps({"token": "x" * 64}))["ARN"]
        for name in (
            "CacheAuthTokenSecretArn",
            "BrokerAuthTokenSecretArn",
            "JwtSigningKeySecretArn",
            "MetricsTokenSecretArn",
            *stood_in,
        )
    }
    certificate = boto3.client("acm", region_name=REGION).request_certificate(DomainName="api.registration.example.edu")
    parameters = {
        "ImageUri": "111122223333.dkr.ecr.us-east-1.amazonaws.com/course-registration:1.0.0",
        "CertificateArn": certificate["CertificateArn"],
        "ApiDomainName": "api.registration.example.edu",
        "SiteUrl": "https://registration.example.edu",
        "DefaultFromEmail": "registration@example.edu",
        "VpcId": network["vpc"],
        "PublicSubnetIds": ",".join(network["public"]),
        "PrivateSubnetIds": ",".join(network["private"]),
        "AppSecurityGroupId": network["app_group"],
        "CacheEndpoint": "cache.example.internal",
        "BrokerEndpoint": "broker.example.internal",
        **secret_arns,
    }
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # moto skips a type it lacks with a warning: none may be left
        cloudformation.create_stack(
            StackName="course-registration-compute",
            TemplateBody=json.dumps(body),
            Parameters=[{"ParameterKey": key, "ParameterValue": value} for key, value in parameters.items()],
            Capabilities=["CAPABILITY_IAM"],
        )
    stack = cloudformation.describe_stacks(StackName="course-registration-compute")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    outputs = {output["OutputKey"]: output["OutputValue"] for output in stack["Outputs"]}
    balancer = boto3.client("elbv2", region_name=REGION).describe_load_balancers()["LoadBalancers"][0]
    assert outputs["LoadBalancerDnsName"] == balancer["DNSName"]

    ecs = boto3.client("ecs", region_name=REGION)
    beat, web = ecs.describe_services(cluster=outputs["ClusterName"], services=["beat", "web"])["services"]
    assert beat["desiredCount"] == 1  # (moto keeps no deployment configuration; the content test checks it)
    web_definition = ecs.describe_task_definition(taskDefinition=web["taskDefinition"])["taskDefinition"]
    assert web_definition["containerDefinitions"][0]["portMappings"][0]["containerPort"] == 8000
    release = ecs.describe_task_definition(taskDefinition=outputs["ReleaseTaskDefinitionArn"])["taskDefinition"]
    assert release["containerDefinitions"][0]["command"] == ["release"]
