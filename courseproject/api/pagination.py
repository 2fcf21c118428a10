"""Cursor pagination over DynamoDB queries.

A cursor is the query's LastEvaluatedKey, signed with the secret key and bound to the query it came
from, so clients cannot forge keys or replay a cursor against another list. Any cursor that fails
the check is a 400 on the `cursor` field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.core import signing
from pynamodb.expressions.condition import Condition
from pynamodb.indexes import GlobalSecondaryIndex

from courseproject.api.errors import InvalidInputError

ItemT = TypeVar("ItemT")
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
# Bound on DynamoDB pages one filtered list request may read.
MAX_QUERY_PAGES = 5


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
    carries no cursor to an empty page. A filter can reject most of what DynamoDB reads (a roster of
    mostly dropped students), so a request reads at most MAX_QUERY_PAGES pages and then returns what
    it has, possibly fewer than `limit` items, with a cursor to continue.
    """
    model = index._model
    results = model.query(
        hash_key,
        range_key_condition=range_key_condition,
        filter_condition=filter_condition,
        index_name=index.Meta.index_name,
        scan_index_forward=not newest_first,
        page_size=limit + 1,
        last_evaluated_key=decode_cursor(cursor, scope=scope),
    )
    pages = results.page_iter
    collected: list[dict[str, Any]] = []
    next_key: dict[str, Any] | None = None
    for pages_read, raw_page in enumerate(pages, start=1):
        collected.extend(raw_page.get("Items", [])[: limit + 1 - len(collected)])
        if len(collected) > limit:
            # Resume after the last item returned, not after the extra one.
            next_key = {name: collected[limit - 1][name] for name in pages.key_names}
            break
        if pages.last_evaluated_key is None:
            break
        if pages_read >= MAX_QUERY_PAGES:
            next_key = pages.last_evaluated_key
            break
    items = [model.from_raw_data(raw_item) for raw_item in collected[:limit]]
    return Page(items=items, next_cursor=encode_cursor(next_key, scope=scope) if next_key else None)
