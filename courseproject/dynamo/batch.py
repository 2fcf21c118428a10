"""Many items by key in as few round trips as DynamoDB allows (BatchGetItem), never one GetItem per row."""

from __future__ import annotations

import random
import time
from collections.abc import Iterable
from typing import Any, TypeVar

from pynamodb.exceptions import GetError

from courseproject.dynamo.models import DynamoModel

# DynamoDB's limit on keys per BatchGetItem call.
BATCH_GET_LIMIT = 100
BATCH_GET_MAX_ATTEMPTS = 8

ModelT = TypeVar("ModelT", bound=DynamoModel)


def batch_get(
    model_class: type[ModelT],
    hash_keys: Iterable[str],
    *,
    consistent_read: bool = False,
    attributes: list[str] | None = None,
) -> dict[str, ModelT]:
    """Fetch many items by hash key with BatchGetItem, keyed by hash key; missing keys are absent.

    100 keys a call; UnprocessedKeys (throttling, 16 MB responses) are retried with exponential
    backoff and full jitter, so a partial answer is never mistaken for missing items.
    """
    unique_keys = list(dict.fromkeys(hash_keys))
    if not unique_keys:
        return {}
    connection = model_class._get_connection().connection
    table = model_class.Meta.table_name
    key_name = model_class._hash_key_attribute().attr_name
    request_options: dict[str, Any] = {"ConsistentRead": consistent_read}
    if attributes:
        # Placeholders for every name: several of ours (capacity, status) are DynamoDB reserved words.
        names = {f"#a{position}": name for position, name in enumerate(dict.fromkeys([key_name, *attributes]))}
        request_options["ProjectionExpression"] = ", ".join(names)
        request_options["ExpressionAttributeNames"] = names
    found: dict[str, ModelT] = {}
    for start in range(0, len(unique_keys), BATCH_GET_LIMIT):
        request_keys = [{key_name: {"S": key}} for key in unique_keys[start : start + BATCH_GET_LIMIT]]
        attempt = 0
        while request_keys:
            response = connection.dispatch(
                "BatchGetItem", {"RequestItems": {table: {"Keys": request_keys, **request_options}}}
            )
            for raw_item in response.get("Responses", {}).get(table, []):
                found[raw_item[key_name]["S"]] = model_class.from_raw_data(raw_item)
            request_keys = response.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
            if request_keys:
                attempt += 1
                if attempt >= BATCH_GET_MAX_ATTEMPTS:
                    raise GetError(f"BatchGetItem on {table} left {len(request_keys)} keys unprocessed")
                time.sleep(random.uniform(0, min(1.0, 0.025 * 2**attempt)))
    return found
