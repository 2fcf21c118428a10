"""A Redis outage costs speed, never a request: reads fall back to DynamoDB behind the breaker, the
cache recovers by itself, writes made meanwhile are never served stale; and the counters behind /metrics."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.test import override_settings
from django_redis import get_redis_connection

from accounts import services as account_services
from accounts.models import Role
from courseproject.caching.connection import gate
from courseproject.observability import counters
from devstack.services import RUN_DIR, free_port, redis_server
from tests.conftest import course_list

pytestmark = pytest.mark.skipif(not settings.CACHE_ENABLED, reason="exercises the cache; CACHE_ENABLED=false")


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

    def test_a_revoked_token_is_refused_while_redis_is_down(self, own_redis, make_person, make_course):
        server, _ = own_redis
        course = make_course()
        student = make_person(Role.STUDENT)
        url = f"/api/courses/{course.course_id}"
        assert student.client.get(url).status_code == 200
        server.stop()
        # Revoked while Redis is away: the write-through misses, the check reads DynamoDB.
        assert student.client.post("/api/auth/logout", {"all": True}, format="json").status_code == 204
        for _ in range(3):
            assert student.client.get(url).status_code == 401
            assert (
                student.client.post("/api/enrollments", {"course_id": course.course_id}, format="json").status_code
                == 401
            )

    def test_a_revocation_redis_missed_holds_when_redis_answers_again(self, own_redis, make_person, make_course):
        """The cached token version must not let a revoked token back in after a partition."""
        course = make_course()
        student = make_person(Role.STUDENT)
        url = f"/api/courses/{course.course_id}"
        assert student.client.get(url).status_code == 200
        get_redis_connection("default").client_pause(1500, all=True)
        assert student.client.post("/api/auth/logout", {"all": True}, format="json").status_code == 204
        time.sleep(1.6)
        assert student.client.get(url).status_code == 401

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
