"""Query parameters of admin pages, read defensively: they are typed by hand and shared as links."""

from __future__ import annotations

import re

from django.http import HttpRequest, QueryDict

from courseproject.ids import ID_PATTERN

PLAIN_NUMBER = re.compile(r"[0-9]{1,9}")
# Signed cursors are a few hundred characters; anything much longer is not one of ours.
MAX_CURSOR_LENGTH = 2048


class InvalidFilter(ValueError):
    """A filter value that cannot be queried: shown as an error message over an empty list."""


def plain_int(raw: str) -> int | None:
    """A number typed in ASCII digits, else None (str.isdigit() also accepts "²", which int() refuses)."""
    return int(raw) if PLAIN_NUMBER.fullmatch(raw) else None


def text_param(request: HttpRequest, name: str, *, max_length: int = 254) -> str:
    return request.GET.get(name, "").strip()[:max_length]


def int_param(request: HttpRequest, name: str, *, minimum: int, maximum: int) -> int | None:
    raw = text_param(request, name, max_length=12)
    if not raw:
        return None
    number = plain_int(raw)
    if number is None or not minimum <= number <= maximum:
        raise InvalidFilter(f"{name.replace('_', ' ').capitalize()} must be a number from {minimum} to {maximum}.")
    return number


def id_param(params: QueryDict, name: str) -> str | None:
    """An id from the query string, if it has the shape of one (as the <id:...> path converter)."""
    value = params.get(name, "")
    return value if ID_PATTERN.fullmatch(value) else None


def cursor_param(request: HttpRequest) -> str | None:
    """The list's cursor, if any; the selectors refuse one that is forged or from another list."""
    return text_param(request, "cursor", max_length=MAX_CURSOR_LENGTH) or None


def page_number(request: HttpRequest) -> int:
    """The page number a list shows (cursors do the paging; the number is for the reader)."""
    number = plain_int(request.GET.get("page", "1"))
    return number if number is not None and 0 < number < 100_000 else 1
