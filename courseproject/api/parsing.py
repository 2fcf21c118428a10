"""JSON request bodies with orjson: strict, and bounded in size and in nesting."""

from __future__ import annotations

import re
from typing import Any

import orjson
from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import BaseParser

# Arrays and objects inside each other, the body itself counting as one: no request of the API needs
# more than four (a course's meetings' days), and everything that walks a value (DRF's fields, repr,
# copy, error rendering) recurses, so a deep body must stop here rather than at Python's stack limit.
MAX_NESTING_DEPTH = 32

# A JSON string, escapes included: brackets inside one are text, not structure.
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_A_BRACKET = bytes(sorted(set(range(256)) - set(b"[]{}")))
_OPENING_BRACKETS = frozenset(b"[{")


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"
    default_detail = "The request body is too large."


class NestedTooDeeply(ParseError):
    default_code = "nested_too_deeply"
    default_detail = f"The request body nests arrays and objects more than {MAX_NESTING_DEPTH} deep."


def nests_deeper_than(body: bytes, limit: int) -> bool:
    """Whether arrays and objects in a JSON text nest more than `limit` deep, counted in one loop over
    its brackets (never by recursion, so 100,000 levels cost no stack). Brackets of invalid JSON are
    counted too: such a body is refused either way."""
    brackets = _JSON_STRING.sub(b"", body).translate(None, _NOT_A_BRACKET)
    if len(brackets) <= limit:
        return False
    depth = 0
    for bracket in brackets:
        depth += 1 if bracket in _OPENING_BRACKETS else -1
        if depth > limit:
            return True
    return False


class LimitedJSONParser(BaseParser):
    """Parses a JSON body of at most DATA_UPLOAD_MAX_MEMORY_SIZE bytes, nested at most MAX_NESTING_DEPTH deep.

    DRF's parser streams the whole body whatever its size, and Python's json accepts NaN and lone
    surrogates, which DynamoDB would later refuse. orjson rejects both, so bad input is a 400 here.
    """

    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise RequestTooLarge(f"The request body is larger than {limit} bytes.")
        if nests_deeper_than(body, MAX_NESTING_DEPTH):
            raise NestedTooDeeply()
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as error:
            raise ParseError(f"The request body is not valid JSON: {error}") from None
