"""Write-through of enrollment pages under concurrency and failure (the pages themselves:
test_cache_write_through.py): a write coming between another's read and store is kept, a reader
that loaded before a write cannot store over it, a repeated announcement brings nothing older back,
a store Redis missed is repaired by a bump; and the patch is exact or nothing."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson
import pytest
from django.conf import settings
from django_redis import get_redis_connection
from redis.exceptions import ConnectionError as RedisConnectionError

from accounts.models import Role
from courseproject.api.pagination import encode_cursor
from courseproject.caching import keys
from courseproject.caching.connection import gate
from courseproject.caching.pages import refresh_page
from enrollments import cached_pages, selectors, signals
from enrollments import services as enrollment_services
from enrollments.cached_pages import PageShape, patched_results
from tests.conftest import unique_semester
from tests.page_reads import MINE, counted_get, hit, roster_url

pytestmark = pytest.mark.skipif(not settings.CACHE_ENABLED, reason="exercises the cache; CACHE_ENABLED=false")


class TestRaces:
    def test_a_write_between_the_read_of_the_pages_and_their_store_is_kept(self, student, make_course, monkeypatch):
        first, second = make_course(), make_course()
        student.client.get(MINE)
        read_after_commit = signals.read_after_commit
        let_in: list[bool] = []

        def let_the_other_write_in(**kwargs: Any) -> cached_pages.AfterCommit:
            if not let_in:
                let_in.append(True)  # the other enroll runs to its end, write-through included
                enrollment_services.enroll(actor=student.actor, course_id=second.course_id)
            return read_after_commit(**kwargs)

        replace_pages = cached_pages.replace_pages
        lost_rounds: list[list[str]] = []

        def recording(replacements: list[Any]) -> list[str]:
            lost_rounds.append(replace_pages(replacements))
            return lost_rounds[-1]

        monkeypatch.setattr(signals, "read_after_commit", let_the_other_write_in)
        monkeypatch.setattr(cached_pages, "replace_pages", recording)
        enrollment_services.enroll(actor=student.actor, course_id=first.course_id)
        # The other enroll's round, then this one's, lost to it, then this one's again on what it stored.
        assert lost_rounds == [[], [keys.my_enrollments_generation(student.user_id)], []]
        mine = hit(student, MINE, keys.MY_ENROLLMENTS)
        assert {entry["course_id"] for entry in mine["results"]} == {first.course_id, second.course_id}

    def test_a_roster_that_lost_the_race_is_loaded_again_with_both_students(
        self, instructor, make_person, make_course, monkeypatch
    ):
        course = make_course()
        first, second = make_person(Role.STUDENT), make_person(Role.STUDENT)
        instructor.client.get(roster_url(course))
        read_after_commit = signals.read_after_commit
        let_in: list[bool] = []

        def let_the_other_write_in(**kwargs: Any) -> cached_pages.AfterCommit:
            if not let_in:
                let_in.append(True)
                enrollment_services.enroll(actor=second.actor, course_id=course.course_id)
            return read_after_commit(**kwargs)

        monkeypatch.setattr(signals, "read_after_commit", let_the_other_write_in)
        enrollment_services.enroll(actor=first.actor, course_id=course.course_id)
        # Bumped, not retried (a busy course's roster changes faster than it is read): a miss, fresh.
        body, hits, misses = counted_get(instructor, roster_url(course), keys.ROSTER)
        assert (hits, misses) == (0, 1)
        assert {entry["user_id"] for entry in body["results"]} == {first.user_id, second.user_id}

    def test_two_enrolls_of_one_student_at_once_both_end_up_in_the_cached_page(self, student, make_course):
        semester = unique_semester()
        courses = [make_course(semester_id=semester) for _ in range(2)]
        student.client.get(MINE)
        start = threading.Barrier(2)

        def enroll(course: Any) -> bool:
            start.wait()
            return enrollment_services.enroll(actor=student.actor, course_id=course.course_id).created

        with ThreadPoolExecutor(max_workers=2) as pool:
            assert list(pool.map(enroll, courses)) == [True, True]
        mine = hit(student, MINE, keys.MY_ENROLLMENTS)
        assert {entry["course_id"] for entry in mine["results"]} == {course.course_id for course in courses}
        assert mine["credits_by_semester"] == {str(semester): 6}

    def test_a_page_loaded_before_a_write_cannot_replace_the_written_one(self, student, make_course):
        course = make_course()
        student.client.get(MINE)
        key = keys.my_enrollments(user_id=student.user_id, semester_id=None, status=None, limit=20, cursor=None)

        def load_then_let_the_writer_in() -> bytes:
            stale = selectors._student_enrollments_page(
                user_id=student.user_id, semester_id=None, status=None, limit=20, cursor=None
            )
            enrollment_services.enroll(actor=student.actor, course_id=course.course_id)
            return stale

        # An early refresh (or the warming task) that loaded just before the enroll committed.
        served, stored = refresh_page(
            key, generation_key=keys.my_enrollments_generation(student.user_id), load=load_then_let_the_writer_in
        )
        assert orjson.loads(served)["results"] == [] and not stored
        assert [entry["course_id"] for entry in hit(student, MINE, keys.MY_ENROLLMENTS)["results"]] == [
            course.course_id
        ]

    def test_a_late_repeat_of_an_announcement_does_not_bring_an_older_state_back(
        self, student, instructor, make_course
    ):
        course = make_course()
        enrollment_services.enroll(actor=student.actor, course_id=course.course_id)
        enrollment_services.drop(actor=student.actor, user_id=student.user_id, course_id=course.course_id)
        student.client.get(MINE)
        instructor.client.get(roster_url(course))
        # The enroll's announcement again, as an outbox relay may repeat one after a worker died.
        signals.refresh_enrollment_caches(
            user_id=student.user_id, course_id=course.course_id, semester_id=course.semester_id, action="enrolled"
        )
        assert [entry["status"] for entry in hit(student, MINE, keys.MY_ENROLLMENTS)["results"]] == ["dropped"]
        assert hit(instructor, roster_url(course), keys.ROSTER)["results"] == []


class TestRedisFailure:
    def test_a_write_through_redis_missed_is_repaired_by_a_bump(self, student, make_course, monkeypatch):
        course = make_course()
        student.client.get(MINE)
        run_pipeline = gate.run_pipeline

        def failing(client: Any, build: Callable[..., None]) -> list[Any]:
            raise RedisConnectionError("Redis went away")

        monkeypatch.setattr(gate, "run_pipeline", failing)
        enrollment_services.enroll(actor=student.actor, course_id=course.course_id)
        monkeypatch.setattr(gate, "run_pipeline", run_pipeline)
        assert keys.my_enrollments_generation(student.user_id) in gate._pending_bumps
        gate.breaker.reset()
        generation_before = get_redis_connection("default").get(keys.my_enrollments_generation(student.user_id))
        # The next read applies the missed bump first, then loads the page afresh.
        assert [entry["course_id"] for entry in student.client.get(MINE).json()["results"]] == [course.course_id]
        assert get_redis_connection("default").get(keys.my_enrollments_generation(student.user_id)) != (
            generation_before
        )


# --- The patch itself: exact, or nothing ------------------------------------------------------------

SCOPE = "roster:course-1"


def _shape(*, newest_first: bool | None = False, limit: int = 3) -> PageShape:
    return PageShape(
        key=keys.roster(course_id="course-1", limit=limit, cursor=None),
        scope=SCOPE,
        limit=limit,
        matches=lambda entry: entry["status"] == "enrolled",
        newest_first=newest_first,
    )


def _entry(number: int, status: str = "enrolled", second: int | None = None) -> dict[str, Any]:
    return {
        "enrollment_id": f"student-{number}#course-1",
        "status": status,
        "semester_id": 20261,
        "enrolled_at": f"2026-01-01T00:00:{second if second is not None else number:02d}.000000Z",
    }


def _page(*entries: dict[str, Any], cursor_after: dict[str, Any] | None = None) -> dict[str, Any]:
    cursor = None
    if cursor_after is not None:
        cursor = encode_cursor({"enrollment_id": {"S": cursor_after["enrollment_id"]}}, scope=SCOPE)
    return {"results": list(entries), "next_cursor": cursor}


class TestPatchingAPage:
    def test_the_complete_list_takes_any_change_that_fits(self):
        page = _page(_entry(1), _entry(3))
        assert patched_results(page, _entry(2), shape=_shape()) == [_entry(1), _entry(2), _entry(3)]
        assert patched_results(page, _entry(1, "dropped"), shape=_shape()) == [_entry(3)]
        assert patched_results(_page(_entry(1), _entry(2), _entry(3)), _entry(4), shape=_shape()) is None

    def test_a_full_page_keeps_what_belongs_after_its_cursor(self):
        full = _page(_entry(1), _entry(2), _entry(3), cursor_after=_entry(3))
        assert patched_results(full, _entry(4), shape=_shape()) == full["results"]  # a later page's
        assert patched_results(full, _entry(2, "dropped"), shape=_shape()) is None  # pulls one in
        assert patched_results(full, _entry(1, second=2, status="enrolled"), shape=_shape()) is None  # a tie
        moved_within = _entry(1, second=2)
        moved_within["enrolled_at"] = "2026-01-01T00:00:02.500000Z"
        assert patched_results(full, moved_within, shape=_shape()) == [_entry(2), moved_within, _entry(3)]
        assert patched_results(full, _entry(9, second=0), shape=_shape()) is None  # pushes the last one out

    def test_a_page_cut_short_by_the_read_budget_takes_only_changes_in_place(self):
        cut_short = _page(_entry(1), _entry(2), cursor_after=_entry(7))
        changed = {**_entry(2), "skip_reason": None, "dropped_at": None}
        assert patched_results(cut_short, changed, shape=_shape()) == [_entry(1), changed]
        assert patched_results(cut_short, _entry(4), shape=_shape()) is None
        assert patched_results(cut_short, _entry(5, "waitlisted"), shape=_shape()) == cut_short["results"]

    def test_nothing_is_placed_into_a_waitlist_page_by_patching(self):
        shape = PageShape(
            key=keys.roster(course_id="course-1", status="waitlisted", limit=3, cursor=None),
            scope="waitlist:course-1",
            limit=3,
            matches=lambda entry: entry["status"] == "waitlisted",
            newest_first=None,
        )
        page = _page(_entry(1, "waitlisted"), _entry(2, "waitlisted"))
        assert patched_results(page, _entry(3, "waitlisted"), shape=shape) is None
        assert patched_results(page, _entry(1, "enrolled"), shape=shape) == [_entry(2, "waitlisted")]
        assert patched_results(page, _entry(5, "dropped"), shape=shape) == page["results"]
