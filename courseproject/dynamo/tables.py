"""Table shapes from the PynamoDB models, and the plan that brings a DynamoDB account in line.

The models are the one source of truth: `table_definition` turns a model into CreateTable
arguments, and `plan_changes` compares them with what DescribeTable reports. PynamoDB can create a
table but not add a GSI to one that exists; that is an UpdateTable per index (DynamoDB accepts one
index creation or deletion per call), each waited for until ACTIVE. An index no model declares is
deleted only when asked (`prune`), the same way, one at a time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from botocore.exceptions import ClientError
from django.conf import settings

from courseproject.dynamo.client import dynamodb_client
from courseproject.dynamo.models import DynamoModel


def table_definition(model: type[DynamoModel]) -> dict[str, Any]:
    """CreateTable arguments (AWS API shape) for a model, on-demand billing."""
    schema = model._get_schema()
    definition: dict[str, Any] = {
        "TableName": model.Meta.table_name,
        "AttributeDefinitions": sorted(schema["attribute_definitions"], key=lambda item: item["AttributeName"]),
        "KeySchema": _ordered_key_schema(schema["key_schema"]),
        "BillingMode": "PAY_PER_REQUEST",
    }
    indexes = [index_definition(index) for index in schema["global_secondary_indexes"]]
    if indexes:
        definition["GlobalSecondaryIndexes"] = sorted(indexes, key=lambda item: item["IndexName"])
    return definition


def index_definition(index_schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "IndexName": index_schema["index_name"],
        "KeySchema": _ordered_key_schema(index_schema["key_schema"]),
        "Projection": index_schema["projection"],
    }


def index_attribute_definitions(model: type[DynamoModel], index_name: str) -> list[dict[str, str]]:
    for index_schema in model._get_schema()["global_secondary_indexes"]:
        if index_schema["index_name"] == index_name:
            return sorted(index_schema["attribute_definitions"], key=lambda item: item["AttributeName"])
    raise KeyError(index_name)


def ttl_attribute_name(model: type[DynamoModel]) -> str | None:
    ttl_attribute = model._ttl_attribute()
    return ttl_attribute.attr_name if ttl_attribute is not None else None


def _ordered_key_schema(key_schema: list[dict[str, str]]) -> list[dict[str, str]]:
    # DynamoDB wants HASH before RANGE; PynamoDB lists them alphabetically by attribute.
    ordered = sorted(key_schema, key=lambda item: item["KeyType"] != "HASH")
    return [{"AttributeName": item["AttributeName"], "KeyType": item["KeyType"]} for item in ordered]


@dataclass
class Step:
    description: str
    apply: Callable[[], None] = field(repr=False)


def describe_table(table_name: str) -> dict[str, Any] | None:
    try:
        return dynamodb_client().describe_table(TableName=table_name)["Table"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return None
        raise


def plan_changes(
    models: list[type[DynamoModel]], *, wait: Callable[[str], None], prune: bool = False
) -> tuple[list[Step], list[str]]:
    """The steps that would create missing tables and indexes (and, with `prune`, delete indexes no
    model declares), and notes on what is already right or left alone."""
    client = dynamodb_client()
    steps: list[Step] = []
    notes: list[str] = []

    def create_table(definition: dict[str, Any]) -> None:
        client.create_table(**definition)
        wait(definition["TableName"])

    def add_index(model: type[DynamoModel], table_name: str, index: dict[str, Any]) -> None:
        client.update_table(
            TableName=table_name,
            AttributeDefinitions=index_attribute_definitions(model, index["IndexName"]),
            GlobalSecondaryIndexUpdates=[{"Create": index}],
        )
        wait(table_name)

    def delete_index(table_name: str, index_name: str) -> None:
        client.update_table(TableName=table_name, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": index_name}}])
        wait(table_name)  # until it is gone: the next index change on this table must wait for it

    def enable_ttl(table_name: str, attribute_name: str) -> None:
        client.update_time_to_live(
            TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute_name}
        )

    for model in models:
        definition = table_definition(model)
        table_name = definition["TableName"]
        wanted = {index["IndexName"]: index for index in definition.get("GlobalSecondaryIndexes", [])}
        existing = describe_table(table_name)
        if existing is None:
            index_names = ", ".join(wanted) or "(none)"
            steps.append(
                Step(f"create table {table_name} with indexes {index_names}", partial(create_table, definition))
            )
        else:
            present = {index["IndexName"] for index in existing.get("GlobalSecondaryIndexes", [])}
            for index_name in sorted(set(wanted) - present):
                steps.append(
                    Step(
                        f"add index {index_name} to {table_name}",
                        partial(add_index, model, table_name, wanted[index_name]),
                    )
                )
            for index_name in sorted(present - set(wanted)):
                undeclared = f"index {index_name} of {table_name}, which no model declares"
                if prune:
                    steps.append(Step(f"delete {undeclared}", partial(delete_index, table_name, index_name)))
                else:
                    notes.append(f"{undeclared}: left in place (--prune deletes it)")
            if not set(wanted) - present:
                notes.append(f"{table_name}: table and {len(wanted)} indexes present")
        ttl_name = ttl_attribute_name(model)
        if ttl_name and _ttl_attribute_enabled(table_name, exists=existing is not None) != ttl_name:
            steps.append(Step(f"enable TTL on {table_name}.{ttl_name}", partial(enable_ttl, table_name, ttl_name)))
    return steps, notes


def _ttl_attribute_enabled(table_name: str, *, exists: bool) -> str | None:
    if not exists:
        return None
    description = dynamodb_client().describe_time_to_live(TableName=table_name)["TimeToLiveDescription"]
    if description.get("TimeToLiveStatus") in {"ENABLED", "ENABLING"}:
        return description.get("AttributeName")
    return None


def wait_until_active(table_name: str, *, timeout_seconds: float, poll_seconds: float = 0.5) -> None:
    """Until the table and every one of its indexes is ACTIVE (GSI backfills can take minutes on AWS)."""
    deadline = time.monotonic() + timeout_seconds
    while True:
        table = describe_table(table_name)
        if (
            table is not None
            and table["TableStatus"] == "ACTIVE"
            and all(
                index.get("IndexStatus") == "ACTIVE" and not index.get("Backfilling", False)
                for index in table.get("GlobalSecondaryIndexes", [])
            )
        ):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{table_name} is not ACTIVE after {timeout_seconds:.0f} s")
        time.sleep(poll_seconds)


def base_table_name(model: type[DynamoModel]) -> str:
    """The table's name without the environment's prefix (Courses for prod-Courses)."""
    return model.Meta.table_name.removeprefix(settings.DYNAMODB_TABLE_PREFIX)


def cloudformation_tables(models: list[type[DynamoModel]]) -> dict[str, dict[str, Any]]:
    """The AWS::DynamoDB::Table resources of infra/stack.yaml, as the models define them.

    `manage.py cloudformation_tables` prints them; a test fails when the template differs.
    """
    resources: dict[str, dict[str, Any]] = {}
    for model in models:
        definition = table_definition(model)
        name = base_table_name(model)
        properties: dict[str, Any] = {
            "TableName": {"Fn::Sub": f"${{EnvironmentName}}-{name}"},
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": definition["AttributeDefinitions"],
            "KeySchema": definition["KeySchema"],
        }
        if "GlobalSecondaryIndexes" in definition:
            properties["GlobalSecondaryIndexes"] = definition["GlobalSecondaryIndexes"]
        ttl_name = ttl_attribute_name(model)
        if ttl_name:
            properties["TimeToLiveSpecification"] = {"AttributeName": ttl_name, "Enabled": True}
        properties |= {
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "SSESpecification": {"SSEEnabled": True},
            "DeletionProtectionEnabled": {"Fn::If": ["ProtectTables", True, False]},
            "Tags": [{"Key": "Environment", "Value": {"Ref": "EnvironmentName"}}],
        }
        resources[f"{name}Table"] = {
            "Type": "AWS::DynamoDB::Table",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": properties,
        }
    return resources
