"""Throttle rates as settings write them ("300/min", "20/15min", "5/hour"), parsed in one place:
settings check them at start-up, the throttles (courseproject/throttling.py) turn them into token
buckets. A leaf module: settings import it before Django is set up."""

from __future__ import annotations

import re
from dataclasses import dataclass

_RATE = re.compile(
    r"(?P<count>[1-9][0-9]*)/(?P<periods>[1-9][0-9]*)?(?P<unit>s|sec|second|m|min|minute|h|hour|d|day)s?"
)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Limit:
    """A token bucket: holds up to `burst` tokens, refilled evenly at `per_second`."""

    burst: int
    per_second: float


def parse_rate(rate: str, *, burst: int | None = None) -> Limit:
    """`count` per period, refilled evenly; the bucket holds `burst` tokens, by default the whole
    period's count (so "300/min" lets 300 through at once, then 5 a second). ValueError if malformed."""
    match = _RATE.fullmatch(rate.strip())
    if match is None:
        raise ValueError(f"a rate looks like 30/min, 20/15min or 5/hour, not {rate!r}")
    if burst is not None and burst < 1:
        raise ValueError(f"a burst is at least 1, not {burst}")
    count = int(match["count"])
    period_seconds = int(match["periods"] or 1) * _UNIT_SECONDS[match["unit"][0]]
    return Limit(burst=burst if burst is not None else count, per_second=count / period_seconds)
