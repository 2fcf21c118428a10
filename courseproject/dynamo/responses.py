"""DynamoDB's answers with items in them, parsed without walking botocore's output shapes.

botocore turns a JSON answer into Python by walking the operation's output shape, member by member,
down to each AttributeValue. Skipping that walk saved 0.1 to 0.2 ms of CPU of the 1.3 to 1.9 ms a
BatchGetItem of three courses costs the web process (docs/benchmarks.md). For the item operations
below, the wire JSON already is the parsed answer, except for binary values (base64 on the wire,
bytes parsed), so a success answer is decoded with orjson alone. An answer that carries a binary value (or only seems
to), an error, any other operation, or a body that is not JSON takes botocore's own parse.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from botocore.parsers import JSONParser, ResponseParserFactory

# Output shapes that hold only strings, numbers, booleans, lists and maps, besides binary values.
ITEM_OUTPUT_SHAPES = frozenset(
    {
        "BatchGetItemOutput",
        "BatchWriteItemOutput",
        "DeleteItemOutput",
        "GetItemOutput",
        "PutItemOutput",
        "QueryOutput",
        "ScanOutput",
        "TransactGetItemsOutput",
        "TransactWriteItemsOutput",
        "UpdateItemOutput",
    }
)
# A binary (B) or binary set (BS) AttributeValue, or text that looks like one: botocore decodes those.
_BINARY_VALUE = re.compile(rb'"BS?"\s*:')


class ItemAnswerParser(JSONParser):
    def _handle_json_body(self, raw_body: bytes, shape: Any) -> Any:
        if shape is not None and shape.name in ITEM_OUTPUT_SHAPES and raw_body and not _BINARY_VALUE.search(raw_body):
            try:
                parsed = orjson.loads(raw_body)
            except orjson.JSONDecodeError:
                parsed = None
            if isinstance(parsed, dict):
                return parsed
        return super()._handle_json_body(raw_body, shape)


class DynamoParserFactory(ResponseParserFactory):
    """botocore's parsers, with ItemAnswerParser for the JSON protocol (DynamoDB's)."""

    def create_parser(self, protocol_name: str) -> Any:
        if protocol_name == "json":
            return ItemAnswerParser(**self._defaults)
        return super().create_parser(protocol_name)
