"""Helpers of the write-through tests: reads of the enrollment pages that say whether they were hits."""

from __future__ import annotations

from typing import Any

from courseproject.caching import keys
from courseproject.caching.pages import bump_generations
from courseproject.observability import counters
from tests.conftest import Person

MINE = "/api/enrollments/me"


def roster_url(course: Any, status: str = "enrolled") -> str:
    return f"/api/courses/{course.course_id}/enrollments?status={status}"


def counted_get(person: Person, url: str, family: str) -> tuple[dict[str, Any], int, int]:
    """The answer, and how many hits and misses of the family's pages it took."""
    before = counters.totals()
    response = person.client.get(url)
    assert response.status_code == 200, response.content
    after = counters.totals()
    return (
        response.json(),
        after[f"cache:{family}:hit"] - before[f"cache:{family}:hit"],
        after[f"cache:{family}:miss"] - before[f"cache:{family}:miss"],
    )


def hit(person: Person, url: str, family: str) -> dict[str, Any]:
    body, hits, misses = counted_get(person, url, family)
    assert (hits, misses) == (1, 0), "the page was not written through"
    return body


def loaded_afresh(person: Person, url: str, *, user_id: str, course_id: str) -> dict[str, Any]:
    """The page as a miss loads it from DynamoDB now."""
    bump_generations(keys.my_enrollments_generation(user_id), keys.roster_generation(course_id))
    body, _, misses = counted_get(person, url, keys.MY_ENROLLMENTS if url.startswith(MINE) else keys.ROSTER)
    assert misses == 1
    return body
