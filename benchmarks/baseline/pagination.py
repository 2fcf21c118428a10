"""The "before" implementation's pagination: every matching item is loaded, sorted and sliced in
Python, and the cursor is an encoded offset."""

from __future__ import annotations

import base64
from typing import Any

from rest_framework.response import Response

from courseproject.api.errors import InvalidInputError


def paginate(items: list[Any], *, limit: int, cursor: str | None) -> tuple[list[Any], str | None]:
    """Offset pagination over the filtered items (the old API's cursor was an encoded offset)."""
    offset = 0
    if cursor:
        try:
            offset = int(base64.urlsafe_b64decode(cursor.encode()).decode())
        except (ValueError, UnicodeError):
            raise InvalidInputError(
                "This cursor is not valid for this list.", code="invalid_cursor", field="cursor"
            ) from None
    page = items[offset : offset + limit]
    more = offset + limit < len(items)
    return page, base64.urlsafe_b64encode(str(offset + limit).encode()).decode() if more else None


def page_response(results: list[dict], next_cursor: str | None) -> Response:
    return Response({"results": results, "next_cursor": next_cursor})
