"""Racing readers cannot store stale values (the tests force the interleaving for lists, details,
seats and deletes), and stampedes of misses load a key once."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import orjson
import pytest
from django.conf import settings
from django_redis import get_redis_connection

from accounts.models import Role
from courseproject.caching import keys
from courseproject.caching.entities import _store_entities, cached_entity
from courseproject.caching.entries import Entry
from courseproject.caching.id_pages import IdPage, cached_id_page
from courseproject.caching.pages import cached_page
from courses import selectors as course_selectors
from courses import services as course_services
from enrollments import services as enrollment_services
from tests.conftest import authenticated_client, course_list, unique_semester

pytestmark = pytest.mark.skipif(not settings.CACHE_ENABLED, reason="exercises the cache; CACHE_ENABLED=false")


class TestRacingReadersCannotStoreStaleValues:
    """Each test makes the interleaving happen: the reader loads, the writer commits, then the reader
    stores what it loaded. The next reader must see the write."""

    @pytest.mark.parametrize("write", ["create", "department change", "delete"])
    def test_a_list_page_loaded_before_a_change_of_membership(self, student, instructor, make_course, write):
        semester = unique_semester()
        changed = make_course(semester_id=semester, department_id=1)
        kept = make_course(semester_id=semester, department_id=1)
        expected = {"create": {changed.course_id, kept.course_id}, "department change": {kept.course_id}}
        expected = expected.get(write, {kept.course_id})

        def load_then_let_the_writer_in() -> IdPage:
            stale = course_selectors.course_id_page(
                course_selectors.course_models_for_semester(
                    semester_id=semester, department_id=1, limit=20, cursor=None
                )
            )
            if write == "create":
                expected.add(make_course(semester_id=semester, department_id=1).course_id)
            elif write == "department change":
                course_services.update_course(
                    actor=instructor.actor, course_id=changed.course_id, changes={"department_id": 2}
                )
            else:
                course_services.delete_course(actor=instructor.actor, course_id=changed.course_id)
            return stale

        cached_id_page(
            keys.course_list(semester_id=semester, department_id=1, limit=20, cursor=None),
            generation_key=keys.course_list_generation(semester),
            items=course_selectors.COURSE_ITEMS,
            load_ids=load_then_let_the_writer_in,
            load_uncached=lambda: b"",
        )
        listed = course_list(student, semester, department_id=1).json()["results"]
        assert {course["course_id"] for course in listed} == expected

    def test_a_list_page_loaded_before_an_edit(self, student, instructor, make_course, dynamodb_calls):
        # An edit does not change the page (ids), so the racing reader's page is kept; the edit shows
        # through the course's entry, written after the reader read it.
        course = make_course(title="Before")
        semester = course.semester_id

        def load_then_let_the_writer_in() -> IdPage:
            stale = course_selectors.course_id_page(
                course_selectors.course_models_for_semester(
                    semester_id=semester, department_id=None, limit=20, cursor=None
                )
            )
            course_services.update_course(
                actor=instructor.actor, course_id=course.course_id, changes={"title": "After"}
            )
            return stale

        served = cached_id_page(
            keys.course_list(semester_id=semester, department_id=None, limit=20, cursor=None),
            generation_key=keys.course_list_generation(semester),
            items=course_selectors.COURSE_ITEMS,
            load_ids=load_then_let_the_writer_in,
            load_uncached=lambda: b"",
        )
        assert orjson.loads(served.body)["results"][0]["title"] == "After"  # entries are read after the ids
        dynamodb_calls.clear()
        assert course_list(student, semester).json()["results"][0]["title"] == "After"
        assert dynamodb_calls.operations == []  # the racing reader's page was kept: an edit is no membership change

    def test_a_course_detail_loaded_before_an_edit(self, student, instructor, make_course):
        course = make_course(title="Before")
        key = keys.course_detail(course.course_id)
        get_redis_connection("default").delete(key.name)  # a miss, as after an eviction

        def load_then_let_the_writer_in():
            stale = course_selectors._load_course_entity(course.course_id)
            course_services.update_course(
                actor=instructor.actor, course_id=course.course_id, changes={"title": "After"}
            )
            return stale

        cached_entity(key, load=load_then_let_the_writer_in)
        assert student.client.get(f"/api/courses/{course.course_id}").json()["title"] == "After"

    def test_seats_loaded_before_an_enrollment(self, student, make_person, make_course):
        course = make_course(capacity=5)
        seats_key = keys.course_seats(course.course_id)
        get_redis_connection("default").delete(seats_key.name)
        stale = course_selectors._load_seats([course.course_id])
        enrollment_services.enroll(actor=student.actor, course_id=course.course_id)
        # The slow reader now stores what it read before the enroll.
        _store_entities([(seats_key, *stale[course.course_id], seats_key.ttl)])
        reader = make_person(Role.STUDENT)
        assert reader.client.get(f"/api/courses/{course.course_id}").json()["enrolled_count"] == 1

    def test_a_course_deleted_while_a_reader_loads_it(self, student, instructor, make_course):
        course = make_course()
        key = keys.course_detail(course.course_id)
        get_redis_connection("default").delete(key.name)

        def load_then_let_the_writer_in():
            stale = course_selectors._load_course_entity(course.course_id)
            course_services.delete_course(actor=instructor.actor, course_id=course.course_id)
            return stale

        cached_entity(key, load=load_then_let_the_writer_in)
        assert student.client.get(f"/api/courses/{course.course_id}").status_code == 404


class TestStampedes:
    def test_fifty_concurrent_misses_of_one_key_load_it_once(self, make_person, make_course, dynamodb_calls, settings):
        # 50 threads of one process share a GIL and 2 cores with DynamoDB Local: a thread can wait
        # longer than the production socket timeout (0.25 s) for its turn, and a Redis timeout sends
        # a request to DynamoDB by design. This test is about the lock, so it gets patient sockets
        # (a pool of its own: django-redis keeps one per URL) and waiters.
        cache = settings.CACHES["default"]
        settings.CACHES = {
            "default": {
                **cache,
                "LOCATION": cache["LOCATION"].replace("127.0.0.1", "localhost"),
                "OPTIONS": {**cache["OPTIONS"], "SOCKET_TIMEOUT": 10, "SOCKET_CONNECT_TIMEOUT": 10},
            }
        }
        settings.CACHE_LOCK_WAIT_SECONDS = 10
        semester = unique_semester()
        for _ in range(3):
            make_course(semester_id=semester)
        reader = make_person(Role.STUDENT)
        start = threading.Barrier(50)
        dynamodb_calls.clear()

        def read(_: int) -> int:
            client = authenticated_client(reader.user)
            start.wait()
            return client.get("/api/courses", {"semester_id": semester}).status_code

        with ThreadPoolExecutor(max_workers=50) as pool:
            statuses = list(pool.map(read, range(50)))
        assert statuses == [200] * 50
        assert dynamodb_calls.count("Query") == 1

    def test_the_lock_is_released_when_the_load_fails(self):
        key = keys.course_list(semester_id=unique_semester(), department_id=None, limit=20, cursor=None)
        generation = keys.course_list_generation(1)

        def failing_load() -> bytes:
            raise RuntimeError("DynamoDB said no")

        with pytest.raises(RuntimeError):
            cached_page(key, generation_key=generation, load=failing_load)
        assert not get_redis_connection("default").keys(f"{keys.lock(key)}*")
        assert cached_page(key, generation_key=generation, load=lambda: b'{"results": []}')[0] == b'{"results": []}'

    def test_early_recomputation_grows_likelier_towards_expiry(self):
        now_ms = int(time.time() * 1000)
        far = Entry(revision=0, generation=b"g", compute_ms=5, expires_at_ms=now_ms + 600_000, payload=b"{}")
        expired = Entry(revision=0, generation=b"g", compute_ms=5, expires_at_ms=now_ms - 1, payload=b"{}")
        assert not any(far.due_for_early_refresh() for _ in range(1000))
        assert all(expired.due_for_early_refresh() for _ in range(1000))
