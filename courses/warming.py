"""Cache warming: load a semester's list pages and its courses into Redis before students ask.

Pages are loaded and stored whatever is cached (the generation read first, as every reader does),
and the courses on them are read with consistent BatchGetItem and written through by revision, so
warming can never put back an older value than a concurrent writer left.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import orjson

from courseproject.api.pagination import DEFAULT_PAGE_SIZE
from courseproject.api.rendering import dumps
from courseproject.caching import keys
from courseproject.caching.entities import fill_entities
from courseproject.caching.pages import refresh_page
from courseproject.dynamo.batch import batch_get
from courses.hot_semesters import hot_semesters as recently_browsed
from courses.models import Course
from courses.selectors import seats_payload, semester_page_loader
from courses.serializers import course_representation

# Browsed within this long counts as hot.
HOT_WITHIN_SECONDS = 3600


@dataclass
class WarmReport:
    semesters: list[int]
    pages: int = 0
    entities: int = 0
    seconds: float = 0.0

    @property
    def keys(self) -> int:
        return self.pages + self.entities


def hot_semesters(configured: list[int]) -> list[int]:
    """The configured semesters and those browsed within the last hour."""
    return list(dict.fromkeys([*configured, *recently_browsed(within_seconds=HOT_WITHIN_SECONDS)]))


def _warm_page(report: WarmReport, *, semester_id: int, department_id: int | None, cursor: str | None) -> dict:
    payload, stored = refresh_page(
        keys.course_list(semester_id=semester_id, department_id=department_id, limit=DEFAULT_PAGE_SIZE, cursor=cursor),
        generation_key=keys.course_list_generation(semester_id),
        load=semester_page_loader(
            semester_id=semester_id, department_id=department_id, limit=DEFAULT_PAGE_SIZE, cursor=cursor
        ),
    )
    report.pages += int(stored)
    return orjson.loads(payload)


def _warm_courses(report: WarmReport, course_ids: list[str]) -> None:
    courses = batch_get(Course, course_ids, consistent_read=True)
    entities = []
    for course_id, course in courses.items():
        revision = int(course.revision)
        entities.append((keys.course_detail(course_id), revision, dumps(course_representation(course))))
        entities.append((keys.course_seats(course_id), revision, seats_payload(course)))
    fill_entities(entities)
    report.entities += len(entities)


def warm_semesters(
    semester_ids: list[int], *, max_pages: int, on_page: Callable[[int], None] | None = None
) -> WarmReport:
    """The first `max_pages` pages of each semester (default page size), the first page of each of
    its departments, and every course on them. `on_page(semester_id)` is called after each page."""
    started = time.monotonic()
    report = WarmReport(semesters=semester_ids)
    for semester_id in semester_ids:
        course_ids: list[str] = []
        departments: set[int] = set()
        cursor = None
        for _ in range(max_pages):
            page = _warm_page(report, semester_id=semester_id, department_id=None, cursor=cursor)
            course_ids += [course["course_id"] for course in page["results"]]
            departments |= {course["department_id"] for course in page["results"]}
            if on_page:
                on_page(semester_id)
            cursor = page["next_cursor"]
            if not cursor:
                break
        for department_id in sorted(departments):
            _warm_page(report, semester_id=semester_id, department_id=department_id, cursor=None)
            if on_page:
                on_page(semester_id)
        for start in range(0, len(course_ids), 100):
            _warm_courses(report, course_ids[start : start + 100])
    report.seconds = time.monotonic() - started
    return report
