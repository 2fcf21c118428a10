"""The Redis cache layer against a real Redis and DynamoDB Local: hits cost no DynamoDB call, every
write is visible to the next read, absent ids and fresh pages are remembered only briefly.
Races and stampedes: test_cache_races.py; Redis outages and counters: test_cache_outage.py; lists as
pages of ids: test_cache_id_pages.py."""

from __future__ import annotations

import threading

import pytest
from django.conf import settings
from django_redis import get_redis_connection
from redis.connection import AbstractConnection

from accounts.models import Role, User
from accounts.selectors import keep_signed_in_user
from courseproject.caching import keys
from courseproject.caching.entities import NEGATIVE_TTL_SECONDS, NULL, _store_entities
from courseproject.caching.tasks import repair_cache
from courses import services as course_services
from enrollments import services as enrollment_services
from tests.conftest import TEST_PASSWORD, course_list, course_owner, unique_semester

pytestmark = pytest.mark.skipif(not settings.CACHE_ENABLED, reason="exercises the cache; CACHE_ENABLED=false")


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

    def test_a_sign_in_stores_the_profile_and_the_token_check(self, anonymous, student, dynamodb_calls):
        # The sign-in read the user consistently: its first requests need not read it again.
        cache_client = get_redis_connection("default")
        cache_client.delete(keys.user_profile(student.user_id).name, keys.user_auth(student.user_id).name)
        response = anonymous.post(
            "/api/auth/login", {"email": student.user.email, "password": TEST_PASSWORD}, format="json"
        )
        assert response.status_code == 200
        anonymous.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
        dynamodb_calls.clear()
        me = anonymous.get("/api/auth/me")
        assert me.status_code == 200
        assert me.json() == response.json()["user"]
        assert dynamodb_calls.operations == []

    def test_a_sign_in_never_puts_back_an_older_profile(self, anonymous, student):
        anonymous.post("/api/auth/login", {"email": student.user.email, "password": TEST_PASSWORD}, format="json")
        student.client.patch("/api/auth/me", {"name": "Grace Hopper"}, format="json")
        stale = User.get(student.user_id, consistent_read=True)
        stale.revision -= 1
        stale.name = "Before Grace"
        keep_signed_in_user(stale)
        assert student.client.get("/api/auth/me").json()["name"] == "Grace Hopper"

    @pytest.mark.parametrize(
        ("path", "budget", "budget_from_a_copy"),
        [
            # The page of ids, its generation, every course and seats entry on it and the token check: one
            # script; none once this process keeps a copy of the page and of the token check.
            ("/api/courses?semester_id={semester}", 1, 0),
            ("/api/courses?semester_id={semester}&department_id=1", 1, 0),
            ("/api/courses?instructor_id={instructor}", 1, 0),
            # The course, its seats and the token check in one MGET; none from a copy.
            ("/api/courses/{course}", 1, 0),
        ],
    )
    @pytest.mark.parametrize("local_copies", [True, False], ids=["local copies", "no local copies"])
    def test_a_hit_takes_its_budget_of_redis_round_trips(
        self, *, student, make_course, monkeypatch, settings, path, budget, budget_from_a_copy, local_copies
    ):
        # Counted where redis-py writes to the socket, on this thread (not the counters' flusher):
        # a pipeline or a script is one write, one round trip.
        settings.CACHE_LOCAL_COPIES = local_copies
        semester = unique_semester()
        course = make_course(semester_id=semester)
        make_course(semester_id=semester)
        url = path.format(semester=semester, instructor=course.instructor_id, course=course.course_id)
        student.client.get(url)
        student.client.get(url)
        round_trips = []
        send = AbstractConnection.send_packed_command
        this_thread = threading.get_ident()

        def counted(connection: AbstractConnection, *args: object, **kwargs: object) -> None:
            if threading.get_ident() == this_thread:
                round_trips.append(args[0][:80] if args else None)
            send(connection, *args, **kwargs)

        monkeypatch.setattr(AbstractConnection, "send_packed_command", counted)
        response = student.client.get(url)
        assert response.status_code == 200
        assert len(round_trips) == (budget_from_a_copy if local_copies else budget), round_trips

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


def test_the_local_redis_is_bounded_and_evicts_lru():
    config = get_redis_connection("default").config_get("maxmemory*")
    assert int(config["maxmemory"]) > 0
    assert config["maxmemory-policy"] == "allkeys-lru"
