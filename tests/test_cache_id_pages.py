"""Course lists as pages of ids: a page holds its courses' ids, each course is its own entries (the
course, its seats), and a cached page comes back with them in one Redis round trip. Only a change of
membership or order (create, delete, a new department, code or instructor) touches the pages; an edit
rewrites the course's entries, and the next read of every page shows it."""

from __future__ import annotations

import pytest
from django.conf import settings
from django_redis import get_redis_connection

from accounts.models import Role
from courseproject.caching import keys
from courseproject.caching.entities import _store_entities, put_tombstone
from courseproject.caching.entries import decode
from courseproject.caching.items import ItemEntries, cached_items
from courseproject.observability import counters
from courses import selectors as course_selectors
from courses import services as course_services
from tests.conftest import Person, course_list, unique_semester

pytestmark = pytest.mark.skipif(not settings.CACHE_ENABLED, reason="exercises the cache; CACHE_ENABLED=false")


class TestOnlyMembershipChangesTouchThePages:
    def test_an_edit_rewrites_the_course_entry_and_keeps_the_pages(
        self, student, instructor, make_course, dynamodb_calls, settings
    ):
        settings.CACHE_GSI_SETTLE_SECONDS = 0  # pages loaded right after the creates are kept in full
        semester = unique_semester()
        course = make_course(semester_id=semester, title="Before")
        make_course(semester_id=semester)
        redis = get_redis_connection("default")
        generation = redis.get(keys.course_list_generation(semester))
        course_list(student, semester)
        student.client.get("/api/courses", {"instructor_id": instructor.user_id})
        response = instructor.client.patch(
            f"/api/courses/{course.course_id}", {"title": "After", "capacity": 12, "credits": 4}, format="json"
        )
        assert response.status_code == 200
        assert redis.get(keys.course_list_generation(semester)) == generation
        dynamodb_calls.clear()
        listed = {item["course_id"]: item for item in course_list(student, semester).json()["results"]}
        by_instructor = student.client.get("/api/courses", {"instructor_id": instructor.user_id}).json()["results"]
        assert dynamodb_calls.operations == []  # both pages stayed hits; the entry came written through
        edited = listed[course.course_id]
        assert {field: edited[field] for field in ("title", "capacity", "seats_available", "credits")} == {
            "title": "After",
            "capacity": 12,
            "seats_available": 12,
            "credits": 4,
        }
        assert edited == student.client.get(f"/api/courses/{course.course_id}").json() == response.json()
        assert {item["title"] for item in by_instructor} == {"After", "Distributed Systems"}

    def test_a_department_change_moves_the_course_between_department_pages(self, student, instructor, make_course):
        semester = unique_semester()
        moving = make_course(semester_id=semester, department_id=1)
        staying = make_course(semester_id=semester, department_id=1)
        make_course(semester_id=semester, department_id=2)

        def listed(department_id: int) -> list[str]:
            body = course_list(student, semester, department_id=department_id).json()
            return sorted(item["course_id"] for item in body["results"])

        assert listed(1) == sorted([moving.course_id, staying.course_id])
        assert moving.course_id not in listed(2)
        response = instructor.client.patch(f"/api/courses/{moving.course_id}", {"department_id": 2}, format="json")
        assert response.status_code == 200
        assert listed(1) == [staying.course_id]
        assert moving.course_id in listed(2)

    def test_a_new_course_code_reorders_the_instructors_page(self, student, instructor, make_course):
        renamed = make_course(course_code="MATH 300")
        make_course(course_code="BIO 100")
        url = "/api/courses"
        codes = [
            item["course_code"]
            for item in student.client.get(url, {"instructor_id": instructor.user_id}).json()["results"]
        ]
        assert codes == ["BIO 100", "MATH 300"]
        instructor.client.patch(f"/api/courses/{renamed.course_id}", {"course_code": "ART 100"}, format="json")
        codes = [
            item["course_code"]
            for item in student.client.get(url, {"instructor_id": instructor.user_id}).json()["results"]
        ]
        assert codes == ["ART 100", "BIO 100"]

    def test_a_course_moved_to_another_instructor_leaves_the_first_ones_page(
        self, student, admin, make_person, make_course
    ):
        first = make_person(Role.INSTRUCTOR)
        second = make_person(Role.INSTRUCTOR)
        course = make_course(owner=first)

        def courses_of(person: Person) -> list[str]:
            body = student.client.get("/api/courses", {"instructor_id": person.user_id}).json()
            return [item["course_id"] for item in body["results"]]

        assert (courses_of(first), courses_of(second)) == ([course.course_id], [])
        response = admin.client.patch(
            f"/api/courses/{course.course_id}", {"instructor_id": second.user_id}, format="json"
        )
        assert response.status_code == 200
        assert (courses_of(first), courses_of(second)) == ([], [course.course_id])


class TestPagesOfIds:
    def test_a_list_hit_counts_its_page_and_every_entry_as_hits(self, student, make_course, settings):
        settings.CACHE_GSI_SETTLE_SECONDS = 0
        semester = unique_semester()
        for _ in range(3):
            make_course(semester_id=semester)
        course_list(student, semester)
        before = counters.totals()
        assert len(course_list(student, semester).json()["results"]) == 3
        after = counters.totals()
        for family, hits in (("course_list", 1), ("course_detail", 3), ("course_seats", 3)):
            assert after[f"cache:{family}:hit"] - before.get(f"cache:{family}:hit", 0) == hits, family
            assert after.get(f"cache:{family}:miss", 0) == before.get(f"cache:{family}:miss", 0), family

    def test_a_page_holds_course_ids_and_the_courses_are_entries(self, student, make_course):
        semester = unique_semester()
        courses = [make_course(semester_id=semester) for _ in range(2)]
        course_list(student, semester)
        raw = get_redis_connection("default").get(
            keys.course_list(semester_id=semester, department_id=None, limit=20, cursor=None).name
        )
        ids, cursor = decode(raw).payload.split(b"\n")
        assert sorted(ids.decode().split()) == sorted(course.course_id for course in courses)
        assert cursor == b"null"

    def test_evicted_entries_are_loaded_with_one_batch_read_and_stored(
        self, student, make_course, dynamodb_calls, settings
    ):
        settings.CACHE_GSI_SETTLE_SECONDS = 0
        semester = unique_semester()
        courses = [make_course(semester_id=semester) for _ in range(3)]
        first = course_list(student, semester).json()
        redis = get_redis_connection("default")
        redis.delete(keys.course_detail(courses[0].course_id).name, keys.course_seats(courses[1].course_id).name)
        dynamodb_calls.clear()
        assert course_list(student, semester).json() == first
        assert dynamodb_calls.operations == ["BatchGetItem"]  # no Query: the page was a hit
        dynamodb_calls.clear()
        assert course_list(student, semester).json() == first
        assert dynamodb_calls.operations == []

    def test_a_tombstoned_course_is_left_out_of_a_page_that_still_names_it(self, student, make_course):
        # As if the delete's bump had not reached Redis yet: its tombstones must already hide it.
        semester = unique_semester()
        gone, kept = make_course(semester_id=semester), make_course(semester_id=semester)
        course_list(student, semester)
        put_tombstone(keys.course_detail(gone.course_id))
        assert [item["course_id"] for item in course_list(student, semester).json()["results"]] == [kept.course_id]

    def test_the_next_cursor_is_kept_with_the_page(self, student, make_course):
        semester = unique_semester()
        for _ in range(3):
            make_course(semester_id=semester)
        first = course_list(student, semester, limit=2).json()
        assert first == course_list(student, semester, limit=2).json()
        rest = course_list(student, semester, limit=2, cursor=first["next_cursor"]).json()
        assert len(first["results"]) == 2 and len(rest["results"]) == 1
        assert rest["next_cursor"] is None

    def test_a_page_reload_renews_entries_that_would_expire_before_it(self, student, make_course):
        semester = unique_semester()
        course = make_course(semester_id=semester)
        redis = get_redis_connection("default")
        detail = keys.course_detail(course.course_id)
        entry = decode(redis.get(detail.name))
        _store_entities([(detail, entry.revision, entry.payload, 5)])  # stored 3,595 s ago, as it were
        course_list(student, semester)
        assert redis.ttl(detail.name) > 5

    def test_entries_stored_for_a_page_keep_a_newer_revision(self, student, instructor, make_course):
        course = make_course(title="Before")
        course_list(student, course.semester_id)  # the page is cached: the read below is a hit
        get_redis_connection("default").delete(keys.course_detail(course.course_id).name)  # evicted

        def load_then_let_the_writer_in(course_ids: list[str]) -> dict:
            stale = course_selectors.COURSE_ITEMS.load(course_ids)
            course_services.update_course(
                actor=instructor.actor, course_id=course.course_id, changes={"title": "After"}
            )
            return stale

        racing = ItemEntries(families=course_selectors.COURSE_ITEMS.families, load=load_then_let_the_writer_in)
        assert b'"title":"Before"' in cached_items([course.course_id], items=racing)[course.course_id]
        assert course_list(student, course.semester_id).json()["results"][0]["title"] == "After"
