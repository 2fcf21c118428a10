"""A key that rides along with a request's first cache read, so checking it costs no round trip.

Authentication attaches one to a read-only request: the user's cached authentication state, to be
compared with the access token (accounts/authentication.py). The first cached read of the request
(`cached_page`, `cached_entity`) fetches the rider's key in the same MGET as its own and settles
the rider there, before the view uses what it read; if the check fails, it raises and the view
answers its error. A request that made no such read settles its rider afterwards, before its
response leaves (`settle_leftover`, called by the authentication's middleware), so no answer ever
skips the check.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass
class Rider:
    key: str
    # Called with the raw cached value of `key` (None when absent or Redis was not asked); raises to
    # refuse the request. It loads what is missing itself.
    settle: Callable[[bytes | None], None]


_pending: ContextVar[Rider | None] = ContextVar("cache_rider", default=None)


def attach(rider: Rider) -> None:
    _pending.set(rider)


def peek() -> Rider | None:
    """The pending rider, if any, left pending."""
    return _pending.get()


def take() -> Rider | None:
    """The pending rider, if any; the caller must settle it."""
    rider = _pending.get()
    if rider is not None:
        _pending.set(None)
    return rider


def settle_leftover() -> None:
    """Settle a rider no cache read took (the view read nothing cached, or Redis was away)."""
    rider = take()
    if rider is not None:
        rider.settle(None)


def clear() -> None:
    _pending.set(None)
