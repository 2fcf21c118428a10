"""Which semesters students are browsing, so that cache warming keeps those warm.

Each process notes a semester in one Redis sorted set (scored by time) at most once per
NOTE_INTERVAL_SECONDS: a list read costs a round trip only that rarely, and an hour's window
(courses/warming.py) does not miss a semester for it. Readers note only a semester with courses
(courses/selectors.py): listing semester ids one to a million must not make warming load them all.
"""

from __future__ import annotations

import time

from redis.exceptions import RedisError

from courseproject.caching import keys
from courseproject.caching.connection import gate

NOTE_INTERVAL_SECONDS = 30.0

_last_noted: dict[int, float] = {}


def note_semester_read(semester_id: int) -> None:
    """Remember that someone browsed this semester (now and then, not on every read)."""
    now = time.monotonic()
    if now - _last_noted.get(semester_id, -NOTE_INTERVAL_SECONDS) < NOTE_INTERVAL_SECONDS:
        return
    client = gate.client()
    if client is None:
        return
    _last_noted[semester_id] = now
    try:
        client.zadd(keys.hot_semesters(), {semester_id: time.time()})
    except RedisError as error:
        gate.failed(error)


def hot_semesters(*, within_seconds: float) -> list[int]:
    """Semesters somebody browsed within the last `within_seconds`, most recent first."""
    client = gate.client()
    if client is None:
        return []
    try:
        members = client.zrevrangebyscore(keys.hot_semesters(), "+inf", time.time() - within_seconds)
    except RedisError as error:
        gate.failed(error)
        return []
    return [int(member) for member in members]
