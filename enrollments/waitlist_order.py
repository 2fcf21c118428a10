"""A course's waitlist in join order, read from the sparse WaitlistByCourse index (a Query, never a
Scan), and students' positions in it, from a cached copy that is written through after every join,
leave and promotion.

An index is eventually consistent on AWS (DynamoDB Local's are synchronous): the order is read
after a consistent read of the course's `waitlisted_count` and `revision`, and read again until the
index holds as many entries as the counter says, so a change the index has not caught up with is
neither served nor cached under the newer revision.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import orjson

from courseproject.api.rendering import dumps
from courseproject.caching import keys
from courseproject.caching.entities import cached_entities
from courses.models import Course
from courses.selectors import SEAT_ATTRIBUTES
from enrollments.models import Enrollment

ORDER_READ_ATTEMPTS = 10


@dataclass(frozen=True)
class WaitlistOrder:
    """The course (its seat attributes, read consistently) and who waits for it, first first."""

    course: Course
    entries: list[Enrollment]
    complete: bool  # the index agreed with the course's counter

    @property
    def user_ids(self) -> list[str]:
        return [entry.user_id for entry in self.entries]

    def cache_payload(self) -> bytes:
        return dumps(self.user_ids)


def read_waitlist_order(course_id: str, *, course: Course | None = None) -> WaitlistOrder | None:
    """The course's waitlist as of now (None if the course does not exist); `course`, when the caller
    has just read it consistently, saves the first attempt's read of it."""
    for attempt in range(ORDER_READ_ATTEMPTS):
        if attempt:
            time.sleep(0.02 * attempt)
        if attempt or course is None:
            try:
                course = Course.get(course_id, consistent_read=True, attributes_to_get=SEAT_ATTRIBUTES)
            except Course.DoesNotExist:
                return None
        expected = int(course.waitlisted_count or 0)
        entries = list(Enrollment.waitlist_by_course.query(course_id)) if expected else []
        if len(entries) == expected:
            return WaitlistOrder(course=course, entries=entries, complete=True)
    return WaitlistOrder(course=course, entries=entries, complete=False)


def _load_orders(course_ids: list[str]) -> dict[str, tuple[int, bytes]]:
    orders = {course_id: read_waitlist_order(course_id) for course_id in course_ids}
    return {
        course_id: (int(order.course.revision), order.cache_payload())
        for course_id, order in orders.items()
        if order is not None
    }


def waitlist_positions(*, user_id: str, course_ids: list[str]) -> dict[str, int]:
    """The student's place (1 is next) on each of these courses' waitlists they are on; one MGET."""
    if not course_ids:
        return {}
    payloads, _ = cached_entities(
        {course_id: keys.course_waitlist(course_id) for course_id in dict.fromkeys(course_ids)},
        load_missing=_load_orders,
    )
    positions = {}
    for course_id, payload in payloads.items():
        user_ids = orjson.loads(payload)
        if user_id in user_ids:
            positions[course_id] = user_ids.index(user_id) + 1
    return positions


def waitlisted_user_ids(*, course_id: str) -> list[str]:
    """Who waits for the course, in order (cached)."""
    payloads, _ = cached_entities({course_id: keys.course_waitlist(course_id)}, load_missing=_load_orders)
    return orjson.loads(payloads[course_id]) if course_id in payloads else []
