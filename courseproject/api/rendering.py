"""JSON out with orjson: fast rendering, and responses whose body is JSON already (cache hits)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from django.http import HttpResponse
from rest_framework.renderers import BaseRenderer


def isoformat(moment: datetime | None) -> str | None:
    """UTC timestamps as the API shows them: 2026-11-25T18:02:26.123456Z, the year in four digits
    (strftime's %Y writes the year 137 as 137, which is no RFC 3339 date-time)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


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
