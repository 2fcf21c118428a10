"""Many items by key in as few round trips as DynamoDB allows (BatchGetItem), never one GetItem per row."""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from pynamodb.exceptions import GetError

from courseproject.dynamo.models import DynamoModel

# DynamoDB's limit on keys per BatchGetItem call.
BATCH_GET_LIMIT = 100
BATCH_GET_MAX_ATTEMPTS = 8

ModelT = TypeVar("ModelT", bound=DynamoModel)


def batch_get(
    model_class: type[ModelT],
    hash_keys: Iterable[Any],
    *,
    consistent_read: bool = False,
    attributes: list[str] | None = None,
) -> dict[Any, ModelT]:
    """Fetch many items by hash key with BatchGetItem, keyed by hash key; missing keys are absent.

    100 keys a call; UnprocessedKeys (throttling, 16 MB responses) are retried with exponential
    backoff and full jitter, so a partial answer is never mistaken for missing items.
    """
    unique_keys = list(dict.fromkeys(hash_keys))
    if not unique_keys:
        return {}
    connection = model_class._get_connection().connection
    table = model_class.Meta.table_name
    key_attribute = model_class._hash_key_attribute()
    key_name, key_type = key_attribute.attr_name, key_attribute.attr_type
    request_options: dict[str, Any] = {"ConsistentRead": consistent_read}
    if attributes:
        request_options.update(_projection([key_name, *attributes]))
    found: dict[Any, ModelT] = {}
    for start in range(0, len(unique_keys), BATCH_GET_LIMIT):
        request_keys = [
            {key_name: {key_type: key_attribute.serialize(key)}} for key in unique_keys[start : start + BATCH_GET_LIMIT]
        ]
        responses = _dispatch_batch_get(connection, {table: {"Keys": request_keys, **request_options}})
        for raw_item in responses.get(table, []):
            found[key_attribute.deserialize(raw_item[key_name][key_type])] = model_class.from_raw_data(raw_item)
    return found


def _dispatch_batch_get(connection: Any, request_items: dict[str, dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The raw items of one BatchGetItem request, by table: keys DynamoDB left unprocessed (throttling,
    16 MB responses) are asked again with exponential backoff and full jitter."""
    found: dict[str, list[dict[str, Any]]] = {}
    pending, attempt = request_items, 0
    while pending:
        response = connection.dispatch("BatchGetItem", {"RequestItems": pending})
        for table, raw_items in response.get("Responses", {}).items():
            found.setdefault(table, []).extend(raw_items)
        pending = response.get("UnprocessedKeys") or {}
        if pending:
            attempt += 1
            if attempt >= BATCH_GET_MAX_ATTEMPTS:
                left = sum(len(table["Keys"]) for table in pending.values())
                raise GetError(f"BatchGetItem on {', '.join(pending)} left {left} keys unprocessed")
            time.sleep(random.uniform(0, min(1.0, 0.025 * 2**attempt)))
    return found


def _projection(attribute_names: list[str]) -> dict[str, Any]:
    """The request options that read only these attributes of each item."""
    # Placeholders for every name: several of ours (capacity, status) are DynamoDB reserved words.
    names = {f"#a{position}": name for position, name in enumerate(dict.fromkeys(attribute_names))}
    return {"ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names}


def _raw_key(model_class: type[DynamoModel], key: Any) -> dict[str, dict[str, str]]:
    """The AttributeValue key of an item: a hash key, or (hash key, range key)."""
    hash_value, range_value = key if isinstance(key, tuple) else (key, None)
    raw = {}
    for attribute, value in (
        (model_class._hash_key_attribute(), hash_value),
        (model_class._range_key_attribute(), range_value),
    ):
        if attribute is not None:
            raw[attribute.attr_name] = {attribute.attr_type: attribute.serialize(value)}
    return raw


def batch_get_items(
    wanted: list[tuple[type[DynamoModel], Any]],
    *,
    consistent_read: bool = True,
    attributes: Mapping[type[DynamoModel], list[str]] | None = None,
) -> list[Any]:
    """Items of several tables in one BatchGetItem (at most 100 keys), in the order asked, None for
    those that do not exist. A key is the hash key, or (hash key, range key) for tables with both.
    `attributes`: for a model, the only attributes to read (besides its key) of its items.

    For reads that must happen together and cannot be stale, such as what the registration rules
    need: one round trip instead of one per table.
    """
    if len(wanted) > BATCH_GET_LIMIT:
        raise ValueError(f"At most {BATCH_GET_LIMIT} keys per BatchGetItem, not {len(wanted)}")
    raw_keys = [(model_class, _raw_key(model_class, key)) for model_class, key in wanted]
    pending: dict[str, dict[str, Any]] = {}
    for model_class, raw_key in raw_keys:
        table = pending.get(model_class.Meta.table_name)
        if table is None:
            table = pending[model_class.Meta.table_name] = {"Keys": [], "ConsistentRead": consistent_read}
            if attributes and model_class in attributes:
                table.update(_projection([*raw_key, *attributes[model_class]]))
        if raw_key not in table["Keys"]:
            table["Keys"].append(raw_key)
    if not wanted:
        return []
    responses = _dispatch_batch_get(wanted[0][0]._get_connection().connection, pending)
    found = {
        (table, _identity(raw_item, raw_keys, table)): raw_item
        for table, raw_items in responses.items()
        for raw_item in raw_items
    }
    items = []
    for model_class, raw_key in raw_keys:
        table = model_class.Meta.table_name
        raw_item = found.get((table, _key_identity(raw_key)))
        items.append(model_class.from_raw_data(raw_item) if raw_item is not None else None)
    return items


def _key_identity(raw_key: dict[str, dict[str, str]]) -> str:
    return repr(sorted((name, tuple(value.items())) for name, value in raw_key.items()))


def _identity(raw_item: dict[str, Any], raw_keys: list[tuple[type[DynamoModel], dict[str, Any]]], table: str) -> str:
    """The identity of an item by the key attributes asked for in its table."""
    for model_class, raw_key in raw_keys:
        if model_class.Meta.table_name == table:
            return _key_identity({name: raw_item[name] for name in raw_key})
    return ""
