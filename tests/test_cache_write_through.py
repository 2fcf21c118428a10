"""Enroll, drop, join, leave and promotion write the student's first page of enrollments and the
course's first roster pages through (enrollments/cached_pages.py): the next read is a hit, and it
answers what a fresh load would; a page that cannot be patched exactly is loaded again. Races and
failures: test_cache_write_through_races.py."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django_redis import get_redis_connection

from accounts.models import Role
from courseproject.api.pagination import decode_cursor
from courseproject.caching import keys
from enrollments import selectors, signals
from enrollments import services as enrollment_services
from tests.conftest import Person, unique_semester
from tests.page_reads import MINE, counted_get, hit, loaded_afresh, roster_url

pytestmark = pytest.mark.skipif(not settings.CACHE_ENABLED, reason="exercises the cache; CACHE_ENABLED=false")


def post_enroll(person: Person, course: Any, *, waitlist: bool = False) -> int:
    return person.client.post(
        "/api/enrollments", {"course_id": course.course_id, "waitlist": waitlist}, format="json"
    ).status_code


class TestTheNextReadAfterAWriteIsAFreshHit:
    def test_an_enroll_shows_in_the_students_next_read_and_the_roster_which_are_hits(
        self, student, instructor, make_course, dynamodb_calls
    ):
        earlier, course = make_course(), make_course(credits=4)
        assert post_enroll(student, earlier) == 201
        student.client.get(MINE)
        instructor.client.get(roster_url(course))
        assert post_enroll(student, course) == 201
        dynamodb_calls.clear()
        mine = hit(student, MINE, keys.MY_ENROLLMENTS)
        roster = hit(instructor, roster_url(course), keys.ROSTER)
        assert "Query" not in dynamodb_calls.operations
        assert [entry["course_id"] for entry in mine["results"]] == [course.course_id, earlier.course_id]
        assert mine["results"][0]["course"]["title"] == course.title
        assert mine["credits_by_semester"][str(course.semester_id)] == 4
        assert [entry["student"]["user_id"] for entry in roster["results"]] == [student.user_id]
        assert mine == loaded_afresh(student, MINE, user_id=student.user_id, course_id=course.course_id)
        assert roster == loaded_afresh(
            instructor, roster_url(course), user_id=student.user_id, course_id=course.course_id
        )

    def test_a_drop_and_an_enroll_again_show_at_once(self, student, instructor, make_course):
        semester = unique_semester()
        kept, course = make_course(semester_id=semester), make_course(semester_id=semester)
        enrollment_services.enroll(actor=student.actor, course_id=kept.course_id)
        enrollment_services.enroll(actor=student.actor, course_id=course.course_id)
        in_semester = f"{MINE}?semester_id={semester}"
        for url in (MINE, in_semester):
            student.client.get(url)
        instructor.client.get(roster_url(course))

        assert student.client.delete(f"/api/enrollments/{course.course_id}").status_code == 204
        for url in (MINE, in_semester):
            mine = hit(student, url, keys.MY_ENROLLMENTS)
            assert [entry["status"] for entry in mine["results"]] == ["dropped", "enrolled"]
            assert mine["credits_by_semester"] == {str(semester): 3}
        assert hit(instructor, roster_url(course), keys.ROSTER)["results"] == []

        assert post_enroll(student, course) == 201
        mine = hit(student, MINE, keys.MY_ENROLLMENTS)
        assert [(entry["course_id"], entry["status"]) for entry in mine["results"]] == [
            (course.course_id, "enrolled"),
            (kept.course_id, "enrolled"),
        ]
        assert mine["credits_by_semester"] == {str(semester): 6}
        assert len(hit(instructor, roster_url(course), keys.ROSTER)["results"]) == 1
        assert mine == loaded_afresh(student, MINE, user_id=student.user_id, course_id=course.course_id)

    def test_joining_and_leaving_a_waitlist_show_at_once(self, student, instructor, make_person, make_course):
        course = make_course(capacity=1)
        assert post_enroll(make_person(Role.STUDENT), course) == 201
        student.client.get(MINE)
        for status in ("enrolled", "waitlisted"):
            instructor.client.get(roster_url(course, status))

        assert post_enroll(student, course, waitlist=True) == 201
        mine = hit(student, MINE, keys.MY_ENROLLMENTS)
        assert [(entry["status"], entry["waitlist_position"]) for entry in mine["results"]] == [("waitlisted", 1)]
        waiting = hit(instructor, roster_url(course, "waitlisted"), keys.ROSTER)
        assert [(entry["user_id"], entry["waitlist_position"]) for entry in waiting["results"]] == [
            (student.user_id, 1)
        ]
        assert len(hit(instructor, roster_url(course), keys.ROSTER)["results"]) == 1  # no change, still a hit

        assert student.client.delete(f"/api/enrollments/{course.course_id}").status_code == 204
        assert [entry["status"] for entry in hit(student, MINE, keys.MY_ENROLLMENTS)["results"]] == ["waitlist_left"]
        assert hit(instructor, roster_url(course, "waitlisted"), keys.ROSTER)["results"] == []

    def test_a_promotion_by_the_worker_shows_in_the_students_page_and_the_rosters(
        self, student, instructor, make_person, make_course
    ):
        course = make_course(capacity=1)
        holder = make_person(Role.STUDENT)
        assert post_enroll(holder, course) == 201
        assert post_enroll(student, course, waitlist=True) == 201
        student.client.get(MINE)
        for status in ("enrolled", "waitlisted"):
            instructor.client.get(roster_url(course, status))

        # The drop's promotion runs inline in the tests (CELERY_TASK_ALWAYS_EAGER), as a worker would.
        assert holder.client.delete(f"/api/enrollments/{course.course_id}").status_code == 204
        mine = hit(student, MINE, keys.MY_ENROLLMENTS)
        assert [(entry["status"], entry["waitlist_position"]) for entry in mine["results"]] == [("enrolled", None)]
        roster = hit(instructor, roster_url(course), keys.ROSTER)
        assert [entry["user_id"] for entry in roster["results"]] == [student.user_id]
        assert hit(instructor, roster_url(course, "waitlisted"), keys.ROSTER)["results"] == []
        assert roster == loaded_afresh(
            instructor, roster_url(course), user_id=student.user_id, course_id=course.course_id
        )

    def test_a_full_first_roster_page_stays_a_hit_when_a_student_enrolls_after_it(
        self, instructor, make_person, make_course
    ):
        course = make_course(capacity=30)
        students = [make_person(Role.STUDENT) for _ in range(21)]
        for person in students:
            enrollment_services.enroll(actor=person.actor, course_id=course.course_id)
        first = instructor.client.get(roster_url(course)).json()
        assert len(first["results"]) == 20 and first["next_cursor"]

        latecomer = make_person(Role.STUDENT)
        enrollment_services.enroll(actor=latecomer.actor, course_id=course.course_id)
        assert hit(instructor, roster_url(course), keys.ROSTER) == first  # the latecomer is on a later page
        rest = instructor.client.get(roster_url(course) + f"&cursor={first['next_cursor']}").json()
        assert [entry["user_id"] for entry in rest["results"]] == [students[20].user_id, latecomer.user_id]

        # Dropping someone on the first page pulls one in from the next: loaded again, not patched.
        enrollment_services.drop(actor=students[0].actor, user_id=students[0].user_id, course_id=course.course_id)
        body, hits, misses = counted_get(instructor, roster_url(course), keys.ROSTER)
        assert (hits, misses) == (0, 1)
        assert body["results"][-1]["user_id"] == students[20].user_id


class TestWhatCannotBePatchedExactlyIsLoadedAgain:
    def test_a_page_that_would_overflow_is_loaded_again_and_a_change_in_place_still_patches(self, student, make_course):
        for _ in range(20):
            enrollment_services.enroll(actor=student.actor, course_id=make_course().course_id)
        assert student.client.get(MINE).json()["next_cursor"] is None  # 20: the complete list

        newest = make_course()
        enrollment_services.enroll(actor=student.actor, course_id=newest.course_id)
        body, hits, misses = counted_get(student, MINE, keys.MY_ENROLLMENTS)
        assert (hits, misses) == (0, 1)
        assert body["results"][0]["course_id"] == newest.course_id and body["next_cursor"]

        # A drop keeps the enrollment where it was: the full page keeps its items and cursor.
        enrollment_services.drop(actor=student.actor, user_id=student.user_id, course_id=newest.course_id)
        mine = hit(student, MINE, keys.MY_ENROLLMENTS)
        assert (mine["results"][0]["status"], mine["next_cursor"]) == ("dropped", body["next_cursor"])
        fresh = loaded_afresh(student, MINE, user_id=student.user_id, course_id=newest.course_id)
        scope = selectors.student_enrollments_scope(user_id=student.user_id, semester_id=None, status=None)
        # A cursor's signature carries the time it was made; what it resumes at is the same.
        assert decode_cursor(mine.pop("next_cursor"), scope=scope) == decode_cursor(
            fresh.pop("next_cursor"), scope=scope
        )
        assert mine == fresh

    def test_a_completion_only_makes_the_pages_stale(self, student, make_course):
        course = make_course()
        enrollment_services.enroll(actor=student.actor, course_id=course.course_id)
        student.client.get(MINE)
        signals.refresh_enrollment_caches(
            user_id=student.user_id, course_id=course.course_id, semester_id=course.semester_id, action="completed"
        )
        assert counted_get(student, MINE, keys.MY_ENROLLMENTS)[1:] == (0, 1)


class TestPagesLoadedWhileAnIndexMayLag:
    def test_a_page_loaded_inside_the_settle_window_keeps_its_short_expiry_when_patched(
        self, student, make_course, settings
    ):
        settings.CACHE_GSI_SETTLE_SECONDS = 30
        first, second = make_course(), make_course()
        enrollment_services.enroll(actor=student.actor, course_id=first.course_id)
        student.client.get(MINE)  # within 30 s of the enroll's new generation: kept at most 30 s
        enrollment_services.enroll(actor=student.actor, course_id=second.course_id)
        assert len(hit(student, MINE, keys.MY_ENROLLMENTS)["results"]) == 2
        key = keys.my_enrollments(user_id=student.user_id, semester_id=None, status=None, limit=20, cursor=None)
        assert 0 < get_redis_connection("default").ttl(key.name) <= 30
