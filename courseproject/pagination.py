"""Cursor pagination over DynamoDB queries.

A cursor is the query's LastEvaluatedKey, signed with the secret key and bound to the query it came
from, so clients cannot forge keys or replay a cursor against another list. Any cursor that fails
the check is a 400 on the `cursor` field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice
from typing import Any, Generic, TypeVar

from django.core import signing
from pynamodb.expressions.condition import Condition
from pynamodb.indexes import GlobalSecondaryIndex

from courseproject.errors import InvalidInputError

ItemT = TypeVar("ItemT")
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class Page(Generic[ItemT]):
    items: list[ItemT]
    next_cursor: str | None

    def map(self, transform: Callable[[list[ItemT]], list[Any]]) -> Page[Any]:
        return Page(items=transform(self.items), next_cursor=self.next_cursor)

    def as_response(self) -> dict[str, Any]:
        return {"results": self.items, "next_cursor": self.next_cursor}


def encode_cursor(last_evaluated_key: dict[str, Any], *, scope: str) -> str:
    return signing.dumps(last_evaluated_key, salt=f"cursor:{scope}", compress=True)


def decode_cursor(cursor: str | None, *, scope: str) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        key = signing.loads(cursor, salt=f"cursor:{scope}")
    except (signing.BadSignature, ValueError, UnicodeError):
        raise InvalidInputError(
            "This cursor is not valid for this list.", code="invalid_cursor", field="cursor"
        ) from None
    if not isinstance(key, dict):
        raise InvalidInputError("This cursor is not valid for this list.", code="invalid_cursor", field="cursor")
    return key


def query_page(
    index: GlobalSecondaryIndex,
    hash_key: Any,
    *,
    scope: str,
    limit: int,
    cursor: str | None,
    range_key_condition: Condition | None = None,
    filter_condition: Condition | None = None,
    newest_first: bool = False,
) -> Page:
    """One page of a GSI query, and a cursor only when another item really follows.

    Asking DynamoDB for limit + 1 items tells us whether a next page exists, so the last page
    carries no cursor to an empty page.
    """
    results = index.query(
        hash_key,
        range_key_condition=range_key_condition,
        filter_condition=filter_condition,
        scan_index_forward=not newest_first,
        limit=limit + 1,
        page_size=limit + 1,
        last_evaluated_key=decode_cursor(cursor, scope=scope),
    )
    items = list(islice(results, limit))
    next_cursor = None
    if len(items) == limit:
        # Read before peeking: after the last item returned, not after the peeked one.
        last_key = results.last_evaluated_key
        if last_key and next(results, None) is not None:
            next_cursor = encode_cursor(last_key, scope=scope)
    return Page(items=items, next_cursor=next_cursor)
