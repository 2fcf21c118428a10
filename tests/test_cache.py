"""The Redis cache layer against a real Redis and DynamoDB Local: hits cost no DynamoDB call, every
write is visible to the next read, racing readers cannot store stale values, stampedes load once,
and a Redis outage costs speed, never a request."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import orjson
import pytest
from django.conf import settings
from django.test import override_settings
from django_redis import get_redis_connection

from accounts import services as account_services
from accounts.models import Actor, Role
from courseproject.caching import keys
from courseproject.caching.connection import gate
from courseproject.caching.entities import NEGATIVE_TTL_SECONDS, NULL, _store_entities, cached_entity
from courseproject.caching.entries import Entry
from courseproject.caching.pages import cached_page
from courseproject.caching.tasks import repair_cache
from courseproject.observability import counters
from courses import selectors as course_selectors
from courses import services as course_services
from devstack.services import RUN_DIR, free_port, redis_server
from enrollments import services as enrollment_services
from tests.conftest import authenticated_client, unique_semester

pytestmark = pytest.mark.skipif(not settings.CACHE_ENABLED, reason="exercises the cache; CACHE_ENABLED=false")


def course_list(person, semester_id: int, **params):
    return person.client.get("/api/courses", {"semester_id": semester_id, **params})


class TestHitsCostNoDynamoDBCall:
    @pytest.mark.parametrize(
        "path",
        [
            "/api/courses?semester_id={semester}",
            "/api/courses?semester_id={semester}&department_id=1",
            "/api/courses?instructor_id={instructor}",
            "/api/courses/{course}",
            "/api/enrollments/me",
            "/api/auth/me",
        ],
    )
    def test_the_second_read_is_served_from_redis(self, student, instructor, make_course, dynamodb_calls, path):
        course = make_course()
        enrollment_services.enroll(actor=student.actor, course_id=course.course_id)
        url = path.format(semester=course.semester_id, instructor=instructor.user_id, course=course.course_id)
        first = student.client.get(url)
        dynamodb_calls.clear()
        second = student.client.get(url)
        assert second.status_code == 200
        assert dynamodb_calls.operations == []
        assert second.json() == first.json()

    def test_a_roster_hit_costs_no_dynamodb_call(self, instructor, student, make_course, dynamodb_calls):
        course = make_course()
        enrollment_services.enroll(actor=student.actor, course_id=course.course_id)
        url = f"/api/courses/{course.course_id}/enrollments"
        instructor.client.get(url)
        dynamodb_calls.clear()
        assert instructor.client.get(url).json()["results"][0]["student"]["user_id"] == student.user_id
        assert dynamodb_calls.operations == []


class TestEveryWriteIsVisibleToTheNextRead:
    def test_a_new_course_appears_in_the_cached_lists(self, student, instructor, make_course):
        semester = unique_semester()
        make_course(semester_id=semester)
        assert len(course_list(student, semester).json()["results"]) == 1
        instructor_list = student.client.get("/api/courses", {"instructor_id": instructor.user_id}).json()
        created = make_course(semester_id=semester)
        assert created.course_id in {course["course_id"] for course in course_list(student, semester).json()["results"]}
        after = student.client.get("/api/courses", {"instructor_id": instructor.user_id}).json()
        assert len(after["results"]) == len(instructor_list["results"]) + 1

    def test_an_edit_shows_in_lists_details_and_embedded_courses(self, student, instructor, make_course):
        course = make_course()
        enrollment_services.enroll(actor=student.actor, course_id=course.course_id)
        for url in (f"/api/courses/{course.course_id}", "/api/enrollments/me"):
            student.client.get(url)
        course_list(student, course.semester_id)
        response = instructor.client.patch(f"/api/courses/{course.course_id}", {"title": "Renamed"}, format="json")
        assert response.status_code == 200
        assert student.client.get(f"/api/courses/{course.course_id}").json()["title"] == "Renamed"
        assert course_list(student, course.semester_id).json()["results"][0]["title"] == "Renamed"
        assert student.client.get("/api/enrollments/me").json()["results"][0]["course"]["title"] == "Renamed"

    def test_a_deleted_course_leaves_the_lists_and_the_detail(self, student, instructor, make_course):
        course = make_course()
        course_list(student, course.semester_id)
        student.client.get(f"/api/courses/{course.course_id}")
        assert instructor.client.delete(f"/api/courses/{course.course_id}").status_code == 204
        assert course_list(student, course.semester_id).json()["results"] == []
        assert student.client.get(f"/api/courses/{course.course_id}").status_code == 404

    def test_seats_are_current_the_moment_enroll_and_drop_return(self, make_person, make_course):
        course = make_course(capacity=3)
        reader = make_person(Role.STUDENT)
        course_list(reader, course.semester_id)
        reader.client.get(f"/api/courses/{course.course_id}")
        for expected_enrolled in (1, 2):
            response = make_person(Role.STUDENT).client.post(
                "/api/enrollments", {"course_id": course.course_id}, format="json"
            )
            assert response.status_code == 201
            listed = course_list(reader, course.semester_id).json()["results"][0]
            detail = reader.client.get(f"/api/courses/{course.course_id}").json()
            assert listed["enrolled_count"] == detail["enrolled_count"] == expected_enrolled
            assert listed["seats_available"] == detail["seats_available"] == 3 - expected_enrolled
        reader.client.post("/api/enrollments", {"course_id": course.course_id}, format="json")
        assert reader.client.delete(f"/api/enrollments/{course.course_id}").status_code == 204
        assert course_list(reader, course.semester_id).json()["results"][0]["seats_available"] == 1

    def test_an_enrollment_keeps_the_semester_pages_cached(self, student, make_course, dynamodb_calls):
        course = make_course()
        course_list(student, course.semester_id)
        enrollment_services.enroll(actor=student.actor, course_id=course.course_id)
        dynamodb_calls.clear()
        page = course_list(student, course.semester_id).json()
        assert page["results"][0]["enrolled_count"] == 1
        assert dynamodb_calls.operations == []  # the page stayed a hit; the seats came written through

    def test_my_enrollments_and_the_roster_follow_enroll_and_drop(self, student, instructor, make_course):
        course = make_course()
        roster_url = f"/api/courses/{course.course_id}/enrollments"
        assert student.client.get("/api/enrollments/me").json()["results"] == []
        assert instructor.client.get(roster_url).json()["results"] == []
        enrollment_services.enroll(actor=student.actor, course_id=course.course_id)
        assert [entry["status"] for entry in student.client.get("/api/enrollments/me").json()["results"]] == [
            "enrolled"
        ]
        assert len(instructor.client.get(roster_url).json()["results"]) == 1
        enrollment_services.drop(actor=student.actor, user_id=student.user_id, course_id=course.course_id)
        assert [entry["status"] for entry in student.client.get("/api/enrollments/me").json()["results"]] == ["dropped"]
        assert instructor.client.get(roster_url).json()["results"] == []

    def test_a_profile_change_shows_in_me_and_in_rosters(self, student, instructor, make_course):
        course = make_course()
        enrollment_services.enroll(actor=student.actor, course_id=course.course_id)
        roster_url = f"/api/courses/{course.course_id}/enrollments"
        student.client.get("/api/auth/me")
        instructor.client.get(roster_url)
        student.client.patch("/api/auth/me", {"name": "Grace Hopper"}, format="json")
        assert student.client.get("/api/auth/me").json()["name"] == "Grace Hopper"
        assert instructor.client.get(roster_url).json()["results"][0]["student"]["name"] == "Grace Hopper"

    def test_a_capacity_change_shows_in_seats(self, student, instructor, make_course):
        course = make_course(capacity=5)
        course_list(student, course.semester_id)
        instructor.client.patch(f"/api/courses/{course.course_id}", {"capacity": 8}, format="json")
        listed = course_list(student, course.semester_id).json()["results"][0]
        assert (listed["capacity"], listed["seats_available"]) == (8, 8)


class TestRacingReadersCannotStoreStaleValues:
    """Each test makes the interleaving happen: the reader loads, the writer commits, then the reader
    stores what it loaded. The next reader must see the write."""

    def test_a_list_page_loaded_before_an_edit(self, student, instructor, make_course):
        course = make_course(title="Before")
        semester = course.semester_id

        def load_then_let_the_writer_in() -> bytes:
            stale = orjson.dumps(
                course_selectors.courses_for_semester(
                    semester_id=semester, department_id=None, limit=20, cursor=None
                ).as_response()
            )
            course_services.update_course(
                actor=instructor.actor, course_id=course.course_id, changes={"title": "After"}
            )
            return stale

        key = keys.course_list(semester_id=semester, department_id=None, limit=20, cursor=None)
        served, _ = cached_page(
            key, generation_key=keys.course_list_generation(semester), load=load_then_let_the_writer_in
        )
        assert orjson.loads(served)["results"][0]["title"] == "Before"  # the racing reader's own answer
        assert course_list(student, semester).json()["results"][0]["title"] == "After"

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


class TestRedisOutage:
    @pytest.fixture
    def own_redis(self):
        """A Redis of this test's own, so stopping it harms no other test."""
        port = free_port()
        url = f"redis://127.0.0.1:{port}/0"

        started = []

        def start():
            started.append(redis_server(port=port, log_path=RUN_DIR / "test-logs" / "redis-outage.log").start())
            return started[-1]

        server = start()
        caches = {"default": {**settings.CACHES["default"], "LOCATION": url}}
        try:
            with override_settings(CACHES=caches, REDIS_URL=url, CACHE_BREAKER_SECONDS=0.2):
                yield server, start
        finally:
            for each in started:  # a test that failed half-way may have restarted it
                each.stop()
            gate.reset()

    def test_requests_succeed_from_dynamodb_and_the_cache_recovers_by_itself(
        self, own_redis, student, instructor, make_course, dynamodb_calls
    ):
        server, start = own_redis
        course = make_course()
        url = f"/api/courses/{course.course_id}"
        student.client.get(url)
        dynamodb_calls.clear()
        assert student.client.get(url).status_code == 200
        assert dynamodb_calls.operations == []

        server.stop()
        for _ in range(5):
            assert student.client.get(url).status_code == 200
            assert course_list(student, course.semester_id).status_code == 200
        # A write while Redis is away must not leave a stale value behind once it is back.
        assert instructor.client.patch(url, {"title": "Changed during the outage"}, format="json").status_code == 200

        server = start()
        time.sleep(0.3)  # past the breaker
        assert student.client.get(url).json()["title"] == "Changed during the outage"
        dynamodb_calls.clear()
        assert student.client.get(url).json()["title"] == "Changed during the outage"
        assert dynamodb_calls.operations == []  # hits again, without a restart
        server.stop()

    def test_a_write_redis_missed_is_not_served_stale_when_redis_answers_again(
        self, own_redis, student, instructor, make_course
    ):
        """Redis keeps its data but cannot be reached for a while (a network partition, a failover)."""
        course = make_course(title="Before")
        url = f"/api/courses/{course.course_id}"
        assert student.client.get(url).json()["title"] == "Before"
        assert course_list(student, course.semester_id).json()["results"][0]["title"] == "Before"
        get_redis_connection("default").client_pause(1500, all=True)
        response = instructor.client.patch(url, {"title": "After"}, format="json")
        assert response.status_code == 200
        time.sleep(1.6)
        assert student.client.get(url).json()["title"] == "After"
        assert course_list(student, course.semester_id).json()["results"][0]["title"] == "After"

    def test_the_breaker_spares_requests_the_timeouts_of_an_unresponsive_redis(self, own_redis, student, make_course):
        """Redis accepts connections but answers nothing (CLIENT PAUSE): without the breaker every
        request would wait out the socket timeouts."""
        course = make_course()
        url = f"/api/courses/{course.course_id}"
        student.client.get(url)
        with override_settings(CACHE_BREAKER_SECONDS=5):
            get_redis_connection("default").client_pause(3000, all=True)
            started = time.monotonic()
            for _ in range(20):
                assert student.client.get(url).status_code == 200
            elapsed = time.monotonic() - started
        assert elapsed < 20 * settings.CACHES["default"]["OPTIONS"]["SOCKET_TIMEOUT"] / 2
        time.sleep(3)

    def test_writes_and_sign_in_succeed_while_redis_is_down(self, own_redis, make_person, make_course):
        server, _ = own_redis
        course = make_course()
        server.stop()
        student = make_person(Role.STUDENT)
        assert (
            student.client.post("/api/enrollments", {"course_id": course.course_id}, format="json").status_code == 201
        )
        assert student.client.delete(f"/api/enrollments/{course.course_id}").status_code == 204
        user = account_services.register_user(
            email=f"outage-{time.time_ns()}@example.edu", password="a-long-password", name="O"
        )
        assert user.user_id


class TestMetrics:
    def test_hits_and_misses_are_counted_per_family_and_exposed(self, student, make_course, anonymous):
        course = make_course()
        before = counters.totals()
        for _ in range(3):
            student.client.get(f"/api/courses/{course.course_id}")
        after = counters.totals()
        assert after["cache:course_detail:hit"] - before["cache:course_detail:hit"] == 3
        text = anonymous.get("/metrics").content.decode()
        assert 'course_cache_lookups_total{family="course_detail",outcome="hit"}' in text
        assert "course_cache_hit_ratio " in text

    def test_metrics_can_require_a_token(self, anonymous, settings):
        settings.METRICS_TOKEN = "s3cret-token"
        assert anonymous.get("/metrics").status_code == 401
        assert anonymous.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token").status_code == 200


class TestNegativeAndSettledEntries:
    def test_an_unknown_course_is_remembered_as_absent(self, student, dynamodb_calls):
        assert student.client.get("/api/courses/f00dbabe").status_code == 404
        dynamodb_calls.clear()
        assert student.client.get("/api/courses/f00dbabe").status_code == 404
        assert dynamodb_calls.operations == []

    def test_a_course_created_with_a_remembered_absent_id_shows_at_once(self, student, make_course):
        course = make_course()
        key = keys.course_detail(course.course_id)
        get_redis_connection("default").delete(key.name)
        _store_entities([(key, 0, NULL, NEGATIVE_TTL_SECONDS)])  # as if read before it existed
        course_services.update_course(actor=course_owner(course), course_id=course.course_id, changes={"title": "Now"})
        assert student.client.get(f"/api/courses/{course.course_id}").json()["title"] == "Now"

    def test_a_page_loaded_right_after_a_write_is_kept_only_for_the_settle_window(self, student, make_course, settings):
        settings.CACHE_GSI_SETTLE_SECONDS = 30
        course = make_course()
        course_list(student, course.semester_id)
        key = keys.course_list(semester_id=course.semester_id, department_id=None, limit=20, cursor=None)
        assert 0 < get_redis_connection("default").ttl(key.name) <= 30

    def test_a_repair_task_applies_the_writes_a_process_missed(self, student, make_course):
        course = make_course(title="Cached")
        url = f"/api/courses/{course.course_id}"
        student.client.get(url)
        course_list(student, course.semester_id)
        repair_cache.run(
            event_id="repair-1",
            delete_keys=[keys.course_detail(course.course_id).name],
            bump_keys=[keys.course_list_generation(course.semester_id)],
        )
        redis = get_redis_connection("default")
        assert redis.get(keys.course_detail(course.course_id).name) is None


def course_owner(course):
    return Actor(user_id=course.instructor_id, role="instructor")


def test_the_local_redis_is_bounded_and_evicts_lru():
    config = get_redis_connection("default").config_get("maxmemory*")
    assert int(config["maxmemory"]) > 0
    assert config["maxmemory-policy"] == "allkeys-lru"
