"""What a committed change of one enrollment does to the cached pages read next: the student's first
page of enrollments (all, and the change's semester's) and the course's first roster and waitlist
pages are patched with the enrollment as it is now and stored under a new generation of their
family, so the next read is a hit that shows the change; the families' other pages go stale.

Exact, whatever runs at the same time (docs/cache.md says more):
- the pages are read (one MGET) *before* the enrollment and the student's schedule (one consistent
  BatchGetItem, with the course whose seats the caller writes through) and stored by a
  compare-and-set on their generation (pages.replace_pages): after a write in between, this one
  reads both again and patches what that write stored, or after PATCH_ATTEMPTS bumps, as before;
- a page is patched only where a fresh load would answer the same: the complete list, or a full
  page whose other items and cursor the change leaves in place; anything else is left to the bump;
- the enrollment is patched in as read after the commit, not as announced, so a late or repeated
  announcement (an outbox follow-up) cannot put an older state back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from courseproject.api.errors import InvalidInputError
from courseproject.api.pagination import DEFAULT_PAGE_SIZE, Page, decode_cursor
from courseproject.api.rendering import dumps
from courseproject.caching import keys
from courseproject.caching.keys import CacheKey
from courseproject.caching.pages import CurrentPages, bump_generations, read_current_pages, replace_pages
from courseproject.dynamo.batch import batch_get_items
from courses.models import Course
from courses.selectors import SEAT_ATTRIBUTES
from enrollments.models import Enrollment, EnrollmentStatus, Schedule, enrollment_id_for
from enrollments.selectors import CREDITS_ONLY, roster_scope, student_enrollments_scope
from enrollments.serializers import enrollment_representation
from enrollments.waitlist_order import WaitlistOrder

logger = logging.getLogger(__name__)

# Compare-and-set rounds a student's pages may lose to the student's other writes before bumping
# instead. A roster that lost is bumped at once: a course many enroll in at once changes faster than
# it is read, and each round costs the enroll a read.
PATCH_ATTEMPTS = 3

Representation = dict[str, Any]


@dataclass(frozen=True)
class PageShape:
    """A cached page a change may rewrite: which items it lists, in which order, and its cursor's scope."""

    key: CacheKey
    scope: str
    limit: int
    matches: Callable[[Representation], bool]
    # By enrolled_at, newest or oldest first; None: waitlist order (a waitlist change rewrites it whole).
    newest_first: bool | None
    # The page carries the student's enrolled credits in each of its semesters.
    with_credits: bool = False


@dataclass(frozen=True)
class PageFamily:
    generation_key: str
    shapes: list[PageShape]
    attempts: int


@dataclass(frozen=True)
class EnrollmentPages:
    """The page families a change of one enrollment touches, as read before the change is read."""

    user_id: str
    course_id: str
    semester_id: int
    families: list[PageFamily]
    current: dict[str, CurrentPages]

    def cached(self, family: PageFamily) -> bool:
        return bool(self.current[family.generation_key].entries)


@dataclass(frozen=True)
class AfterCommit:
    """What the write-throughs need, read consistently after the commit."""

    course: Course | None
    enrollment: Enrollment | None
    schedule: Schedule | None


def _families(*, user_id: str, course_id: str, semester_id: int) -> list[PageFamily]:
    limit = DEFAULT_PAGE_SIZE
    student_pages = [
        PageShape(
            key=keys.my_enrollments(user_id=user_id, semester_id=semester, status=None, limit=limit, cursor=None),
            scope=student_enrollments_scope(user_id=user_id, semester_id=semester, status=None),
            limit=limit,
            matches=lambda entry, semester=semester: semester is None or int(entry["semester_id"]) == semester,
            newest_first=True,
            with_credits=True,
        )
        for semester in (None, semester_id)
    ]
    roster_pages = [
        PageShape(
            key=keys.roster(course_id=course_id, status=status.value, limit=limit, cursor=None),
            scope=roster_scope(course_id=course_id, status=status.value),
            limit=limit,
            matches=lambda entry, status=status: entry["status"] == status,
            newest_first=False if status == EnrollmentStatus.ENROLLED else None,
        )
        for status in (EnrollmentStatus.ENROLLED, EnrollmentStatus.WAITLISTED)
    ]
    return [
        PageFamily(keys.my_enrollments_generation(user_id), student_pages, attempts=PATCH_ATTEMPTS),
        PageFamily(keys.roster_generation(course_id), roster_pages, attempts=1),
    ]


def read_pages(*, user_id: str, course_id: str, semester_id: int) -> EnrollmentPages | None:
    """The cached pages a change of the student's enrollment in the course may rewrite (one MGET);
    None when the cache is off or Redis is away. Call it before reading the change."""
    families = _families(user_id=user_id, course_id=course_id, semester_id=semester_id)
    current = read_current_pages({family.generation_key: [shape.key for shape in family.shapes] for family in families})
    if current is None:
        return None
    return EnrollmentPages(user_id, course_id, semester_id, families, current)


def invalidate_pages(*, user_id: str, course_id: str) -> None:
    """Every page of the student's enrollments and of the course's roster goes stale (a bump)."""
    bump_generations(keys.my_enrollments_generation(user_id), keys.roster_generation(course_id))


def read_after_commit(
    *, user_id: str, course_id: str, semester_id: int, pages: EnrollmentPages | None, with_course: bool
) -> AfterCommit:
    """The course (its seats) and what the cached pages are patched with, the enrollment and the
    student's schedule, in one consistent read; only the course when no page is cached."""
    cached = [family for family in pages.families if pages.cached(family)] if pages is not None else []
    if not cached:
        if not with_course:
            return AfterCommit(None, None, None)
        try:
            course = Course.get(course_id, consistent_read=True, attributes_to_get=SEAT_ATTRIBUTES)
        except Course.DoesNotExist:
            course = None
        return AfterCommit(course, None, None)
    wanted: list[tuple[type, Any]] = [(Enrollment, enrollment_id_for(user_id=user_id, course_id=course_id))]
    if any(shape.with_credits for family in cached for shape in family.shapes):
        wanted.append((Schedule, (user_id, semester_id)))
    if with_course:
        wanted.append((Course, course_id))
    read = batch_get_items(wanted, attributes={**CREDITS_ONLY, Course: SEAT_ATTRIBUTES})  # what the patches use
    found = dict(zip((model for model, _ in wanted), read, strict=True))
    return AfterCommit(found.get(Course), found.get(Enrollment), found.get(Schedule))


def rewrite_pages(pages: EnrollmentPages | None, *, after: AfterCommit, waitlist: WaitlistOrder | None) -> None:
    """Patch the cached pages with the enrollment as read after the commit and store them under new
    generations; bump what cannot be patched exactly, or when other writes keep coming between.
    `waitlist`: the course's waitlist order, read after the pages (a waitlist change), from which
    the first page of the waitlist is rewritten whole."""
    if pages is None:
        return
    families, given_up = pages.families, []
    try:
        for attempt in range(1, PATCH_ATTEMPTS + 1):
            replacements = [
                (pages.current[family.generation_key], _patched_pages(family, pages, after=after, waitlist=waitlist))
                for family in families
            ]
            lost = set(replace_pages(replacements))
            given_up += [f for f in families if f.generation_key in lost and f.attempts <= attempt]
            families = [f for f in families if f.generation_key in lost and f.attempts > attempt]
            if not families:
                break
            # Another write stored its pages in between: read them again, then the enrollment.
            current = read_current_pages({f.generation_key: [shape.key for shape in f.shapes] for f in families})
            if current is None:
                break
            pages = EnrollmentPages(pages.user_id, pages.course_id, pages.semester_id, families, current)
            after = read_after_commit(
                user_id=pages.user_id,
                course_id=pages.course_id,
                semester_id=pages.semester_id,
                pages=pages,
                with_course=False,
            )
            waitlist = None  # read before the other write's commit, perhaps
    except Exception:
        bump_generations(*(family.generation_key for family in [*given_up, *families]))
        raise
    if given_up or families:
        logger.debug("Other writes came between; bumping %s", [f.generation_key for f in [*given_up, *families]])
        bump_generations(*(family.generation_key for family in [*given_up, *families]))


def _patched_pages(
    family: PageFamily, pages: EnrollmentPages, *, after: AfterCommit, waitlist: WaitlistOrder | None
) -> dict[CacheKey, bytes]:
    current = pages.current[family.generation_key]
    if after.enrollment is None or not current.entries:
        return {}
    enrollment = enrollment_representation(after.enrollment)
    credits = int(after.schedule.enrolled_credits) if after.schedule is not None else 0
    patched = {}
    for shape in family.shapes:
        payload = current.payload(shape.key)
        if payload is None:
            continue
        if shape.newest_first is None and waitlist is not None:
            page = _waitlist_page(waitlist, limit=shape.limit)
        else:
            page = _patched_page(orjson.loads(payload), enrollment, shape=shape, credits=(pages.semester_id, credits))
        if page is not None:
            patched[shape.key] = dumps(page)
    return patched


def _waitlist_page(order: WaitlistOrder, *, limit: int) -> dict[str, Any] | None:
    """The first page of the course's waitlist, from the order read (when it is complete and fits)."""
    if not order.complete or len(order.entries) > limit:
        return None
    return Page(items=[enrollment_representation(entry) for entry in order.entries], next_cursor=None).as_response()


def _patched_page(
    page: dict[str, Any], enrollment: Representation, *, shape: PageShape, credits: tuple[int, int]
) -> dict[str, Any] | None:
    results = patched_results(page, enrollment, shape=shape)
    if results is None:
        return None
    page["results"] = results
    if shape.with_credits:
        changed_semester, changed_credits = credits
        known = page.get("credits_by_semester") or {}
        by_semester = {}
        for semester_id in sorted({int(entry["semester_id"]) for entry in results}, reverse=True):
            value = changed_credits if semester_id == changed_semester else known.get(str(semester_id))
            if value is None:
                return None
            by_semester[str(semester_id)] = value
        page["credits_by_semester"] = by_semester
    return page


def patched_results(page: dict[str, Any], item: Representation, *, shape: PageShape) -> list[Representation] | None:
    """The page's items with `item` in its current state, or None when a fresh load could answer
    otherwise than the patch knows (an item or a cursor from the next page)."""
    results: list[Representation] = page["results"]
    index = next((at for at, entry in enumerate(results) if entry["enrollment_id"] == item["enrollment_id"]), None)
    others = [entry for entry in results if entry["enrollment_id"] != item["enrollment_id"]]
    complete = page["next_cursor"] is None
    if not shape.matches(item):
        if index is None:
            return results  # on the page neither before nor after
        return others if complete else None  # a partial page would pull one in from the next
    if shape.newest_first is None or any(entry["enrolled_at"] == item["enrolled_at"] for entry in others):
        return None  # no order to place it by, or a tie the index breaks in its own way
    position = sum(1 for entry in others if _sorts_before(entry, item, newest_first=shape.newest_first))
    patched = [*others[:position], item, *others[position:]]
    if complete:
        return patched if len(patched) <= shape.limit else None
    return _patched_partial_page(page, item, index=index, patched=patched, shape=shape)


def _patched_partial_page(
    page: dict[str, Any], item: Representation, *, index: int | None, patched: list[Representation], shape: PageShape
) -> list[Representation] | None:
    """patched_results for a page with a cursor: exact only where the page keeps its items and cursor."""
    results: list[Representation] = page["results"]
    if index is not None and results[index]["enrolled_at"] == item["enrolled_at"]:
        return patched  # changed in place (a drop): the same items, order and cursor
    if len(results) < shape.limit or not _cursor_follows(page, results[-1], scope=shape.scope):
        return None  # cut short by the query's read budget: its cursor points past items it never saw
    # A full page whose cursor names its last item: exact while the change stays on one side of it.
    last = results[-1]
    if index is None:
        return results if _sorts_before(last, item, newest_first=shape.newest_first) else None  # a later page's
    return patched if index < len(results) - 1 and _sorts_before(item, last, newest_first=shape.newest_first) else None


def _sorts_before(first: Representation, second: Representation, *, newest_first: bool) -> bool:
    # isoformat's timestamps (always microseconds, a four-digit year, Z) sort as strings.
    if newest_first:
        return first["enrolled_at"] > second["enrolled_at"]
    return first["enrolled_at"] < second["enrolled_at"]


def _cursor_follows(page: dict[str, Any], last: Representation, *, scope: str) -> bool:
    """Whether the page's cursor resumes right after its last item (it does for a full page)."""
    try:
        resume_at = decode_cursor(page["next_cursor"], scope=scope) or {}
    except InvalidInputError:
        return False
    return resume_at.get("enrollment_id", {}).get("S") == last["enrollment_id"]
