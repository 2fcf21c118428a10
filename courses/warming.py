"""Cache warming: load a semester's list pages and its courses into Redis before students ask.

Pages (of course ids) are loaded and stored whatever is cached (the generation read first, as every
reader does). The courses on them that are not cached, or would expire before their page, are read
with consistent BatchGetItem and stored by revision before their page, so warming can never put back
an older value than a concurrent writer left.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from courseproject.api.pagination import DEFAULT_PAGE_SIZE
from courseproject.caching import keys
from courseproject.caching.id_pages import IdPage, refresh_id_page
from courses.hot_semesters import hot_semesters as recently_browsed
from courses.selectors import COURSE_ITEMS, course_id_page, course_models_for_semester

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


def _warm_page(
    report: WarmReport, departments: set[int], *, semester_id: int, department_id: int | None, cursor: str | None
) -> IdPage:
    """A page, and the courses on it that are not cached or would expire before it; the departments
    of its courses are added to `departments`."""

    def load() -> IdPage:
        page = course_models_for_semester(
            semester_id=semester_id, department_id=department_id, limit=DEFAULT_PAGE_SIZE, cursor=cursor
        )
        departments.update(int(course.department_id) for course in page.items)
        return course_id_page(page)

    refreshed = refresh_id_page(
        keys.course_list(semester_id=semester_id, department_id=department_id, limit=DEFAULT_PAGE_SIZE, cursor=cursor),
        generation_key=keys.course_list_generation(semester_id),
        items=COURSE_ITEMS,
        load_ids=load,
    )
    report.pages += int(refreshed.stored)
    report.entities += refreshed.entries
    return refreshed.page


def warm_semesters(
    semester_ids: list[int], *, max_pages: int, on_page: Callable[[int], None] | None = None
) -> WarmReport:
    """The first `max_pages` pages of each semester (default page size), the first page of each of
    its departments, and every course on them. `on_page(semester_id)` is called after each page."""
    started = time.monotonic()
    report = WarmReport(semesters=semester_ids)
    for semester_id in semester_ids:
        departments: set[int] = set()
        cursor = None
        for _ in range(max_pages):
            page = _warm_page(report, departments, semester_id=semester_id, department_id=None, cursor=cursor)
            if on_page:
                on_page(semester_id)
            cursor = page.next_cursor
            if not cursor:
                break
        for department_id in sorted(departments):
            _warm_page(report, set(), semester_id=semester_id, department_id=department_id, cursor=None)
            if on_page:
                on_page(semester_id)
    report.seconds = time.monotonic() - started
    return report
