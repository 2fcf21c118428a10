"""How the "before" implementation read DynamoDB: a new boto3 client per request, full-table Scans
with a FilterExpression, and one GetItem per item."""

from __future__ import annotations

from typing import Any

import boto3
from django.conf import settings

from benchmarks.instrumentation import instrument_client
from courseproject.api.errors import NotFoundError
from courses.models import Course


def new_client() -> Any:
    """A new client per request, as the old code did (about 8 ms of set-up each time)."""
    client = boto3.client(
        "dynamodb",
        region_name=settings.AWS_REGION,
        endpoint_url=settings.DYNAMODB_ENDPOINT_URL,
        aws_access_key_id=settings.AWS_ACCESS_KEY_ID,
        aws_secret_access_key=settings.AWS_SECRET_ACCESS_KEY,
    )
    return instrument_client(client)


def scan_all(client: Any, table: str, *, filter_expression: str, names: dict, values: dict) -> list[dict]:
    """Every item of the table that passes the filter: DynamoDB reads the whole table to find them."""
    items: list[dict] = []
    request = {
        "TableName": table,
        "FilterExpression": filter_expression,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }
    while True:
        response = client.scan(**request)
        items.extend(response.get("Items", []))
        if "LastEvaluatedKey" not in response:
            return items
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def get_item(client: Any, model: type, key: str) -> dict | None:
    key_name = model._hash_key_attribute().attr_name
    return client.get_item(TableName=model.Meta.table_name, Key={key_name: {"S": key}}).get("Item")


def course_or_404(client: Any, course_id: str) -> Course:
    item = get_item(client, Course, course_id)
    if item is None:
        raise NotFoundError("Course not found.", code="course_not_found")
    return Course.from_raw_data(item)
