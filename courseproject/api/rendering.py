"""JSON in and out with orjson: strict parsing with a size limit, fast rendering."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from django.conf import settings
from django.http import HttpResponse
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"
    default_detail = "The request body is too large."


def isoformat(moment: datetime | None) -> str | None:
    """UTC timestamps as the API shows them: 2026-11-25T18:02:26.123456Z."""
    if moment is None:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _default(value: Any) -> str:
    # Lazy translation strings and Decimals from DRF's own messages and fields.
    return str(value)


def dumps(data: Any) -> bytes:
    return orjson.dumps(data, default=_default)


class JsonBytesResponse(HttpResponse):
    """A response whose body is JSON already rendered (a cache hit): no serializer, no renderer."""

    def __init__(self, content: bytes, status: int = 200) -> None:
        super().__init__(content, status=status, content_type="application/json")


class ORJSONRenderer(BaseRenderer):
    media_type = "application/json"
    format = "json"
    charset = None

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: dict | None = None) -> bytes:
        if data is None:
            return b""
        return dumps(data)


class LimitedJSONParser(BaseParser):
    """Parses a JSON body of at most DATA_UPLOAD_MAX_MEMORY_SIZE bytes.

    DRF's parser streams the whole body whatever its size, and Python's json accepts NaN and lone
    surrogates, which DynamoDB would later refuse. orjson rejects both, so bad input is a 400 here.
    """

    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise RequestTooLarge(f"The request body is larger than {limit} bytes.")
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as error:
            raise ParseError(f"The request body is not valid JSON: {error}") from None
