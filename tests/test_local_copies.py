"""A web process's copies of course list pages, courses and token checks
(courseproject/caching/local_copies.py): served without a Redis round trip, and never after a change
to a key they were built from, whoever made it, nor after the connection Redis tells of changes
broke. Another process's writes are made here by a second Redis client, the way another process's
reach Redis; tests/e2e/test_local_copies.py runs the same checks across real server processes, and
tests/test_local_copies_of_enrollments.py those of students' enrollment pages."""

from __future__ import annotations

import select
import threading
import time

import pytest
from django.conf import settings
from django_redis import get_redis_connection
from redis import Redis
from redis.connection import AbstractConnection

from accounts.models import Role
from courseproject.caching import keys
from courseproject.caching.local_copies import local_copies
from courseproject.observability.prometheus import prometheus_text
from enrollments import services as enrollment_services
from tests.conftest import TEST_PASSWORD, course_list, unique_semester

pytestmark = pytest.mark.skipif(not settings.CACHE_ENABLED, reason="exercises the cache; CACHE_ENABLED=false")


def other_process() -> Redis:
    """A client of its own, as another web process or a worker would have."""
    pool_kwargs = get_redis_connection("default").connection_pool.connection_kwargs
    return Redis(host=pool_kwargs["host"], port=pool_kwargs["port"], db=pool_kwargs.get("db", 0))


class RoundTrips:
    """Commands this thread writes to Redis sockets (a script or a pipeline is one)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sent: list[object] = []
        send = AbstractConnection.send_packed_command
        this_thread = threading.get_ident()

        def counted(connection: AbstractConnection, *args: object, **kwargs: object) -> None:
            if threading.get_ident() == this_thread:
                self.sent.append(args[0][:80] if args else None)
            send(connection, *args, **kwargs)

        monkeypatch.setattr(AbstractConnection, "send_packed_command", counted)


def wait_for_tracking_message(seconds: float = 2.0) -> bool:
    """Until a message is readable on this process's tracking connection (True), or `seconds` pass."""
    connection = local_copies._connection
    assert connection is not None and connection._sock is not None, "no tracking connection"
    return bool(select.select([connection._sock], [], [], seconds)[0])


def seats_of(person, semester_id: int) -> int:
    response = course_list(person, semester_id)
    assert response.status_code == 200, response.content
    return response.json()["results"][0]["enrolled_count"]


def test_a_kept_page_is_served_without_redis_and_its_etag(student, make_course, monkeypatch):
    course = make_course()
    first = course_list(student, course.semester_id)
    course_list(student, course.semester_id)  # a hit read whole: kept
    round_trips = RoundTrips(monkeypatch)
    kept = course_list(student, course.semester_id)
    assert round_trips.sent == []
    assert kept.content == first.content
    assert kept["ETag"] == first["ETag"]
    assert (
        student.client.get(
            "/api/courses", {"semester_id": course.semester_id}, HTTP_IF_NONE_MATCH=first["ETag"]
        ).status_code
        == 304
    )


def test_a_seat_taken_through_another_process_shows_at_once(student, make_person, make_course):
    course = make_course()
    for _ in range(3):
        assert seats_of(student, course.semester_id) == 0
    # The enroll's write-through reaches Redis like another process's; no signal runs here.
    enrollment_services.enroll(actor=make_person(Role.STUDENT).actor, course_id=course.course_id)
    assert seats_of(student, course.semester_id) == 1


def test_any_change_to_a_kept_key_drops_the_copy(student, make_course):
    course = make_course()
    course_list(student, course.semester_id)
    course_list(student, course.semester_id)
    kept = len(local_copies)
    assert kept >= 2  # the page and the token check
    other_process().delete(keys.course_seats(course.course_id).name)
    response = course_list(student, course.semester_id)  # reloads the seats from DynamoDB
    assert response.json()["results"][0]["course_id"] == course.course_id


def test_a_revoked_sign_in_is_refused_at_once_on_a_kept_page(make_person, make_course):
    course = make_course()
    reader = make_person(Role.STUDENT)
    tokens = reader.client.post(
        "/api/auth/login", {"email": reader.user.email, "password": TEST_PASSWORD}, format="json"
    ).json()
    reader.client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    for _ in range(3):
        assert course_list(reader, course.semester_id).status_code == 200
    assert reader.client.post("/api/auth/logout", {"all": True}, format="json").status_code in (200, 204)
    assert course_list(reader, course.semester_id).status_code == 401


def test_a_broken_tracking_connection_drops_every_copy(student, make_person, make_course):
    course = make_course()
    for _ in range(3):
        assert seats_of(student, course.semester_id) == 0
    redis = other_process()
    tracking = [client for client in redis.client_list() if "t" in client["flags"]]
    assert tracking, "the tracking connection is not in CLIENT LIST"
    for client in tracking:
        redis.client_kill_filter(_id=client["id"])
    # Changed while no one could tell this process: the copy must not be served.
    enrollment_services.enroll(actor=make_person(Role.STUDENT).actor, course_id=course.course_id)
    assert seats_of(student, course.semester_id) == 1
    assert seats_of(student, course.semester_id) == 1  # kept again, with a new tracking connection


def test_a_flushed_redis_drops_every_copy(student, make_course):
    course = make_course()
    course_list(student, course.semester_id)
    course_list(student, course.semester_id)
    other_process().flushdb()
    # Redis writes a flush's message just after its reply to whoever flushed (a key's change is told
    # before the writer's reply): a quarter of the time it is not yet readable when that reply is.
    assert wait_for_tracking_message(), "no message after FLUSHDB"
    course_list(student, course.semester_id)  # the message is applied before anything is served
    assert len(local_copies) <= 1


def test_copies_are_bounded_oldest_first(student, make_course, settings):
    settings.CACHE_LOCAL_COPY_LIMIT = 3
    semesters = [make_course().semester_id for _ in range(4)]
    for semester in semesters:
        course_list(student, semester)
        course_list(student, semester)
    assert len(local_copies) == 3
    for semester in semesters:
        assert seats_of(student, semester) == 0


def test_copies_off_serve_every_read_from_redis(student, make_course, settings, monkeypatch):
    settings.CACHE_LOCAL_COPIES = False
    course = make_course(semester_id=unique_semester())
    course_list(student, course.semester_id)
    course_list(student, course.semester_id)
    round_trips = RoundTrips(monkeypatch)
    course_list(student, course.semester_id)
    assert len(round_trips.sent) == 1
    assert len(local_copies) == 0


def copy_lookups() -> dict[str, int]:
    """/metrics' lookups of this process's copies, by outcome."""
    lines = prometheus_text().splitlines()
    prefix = "course_cache_local_copy_lookups_total"
    return {
        outcome: int(next(line for line in lines if line.startswith(f'{prefix}{{outcome="{outcome}"}}')).split()[-1])
        for outcome in ("hit", "miss")
    }


def test_metrics_count_the_reads_served_from_copies(student, make_course):
    course = make_course(semester_id=unique_semester())
    course_list(student, course.semester_id)
    before_kept = copy_lookups()
    course_list(student, course.semester_id)  # a hit read whole, then kept
    kept = copy_lookups()
    assert kept["hit"] == before_kept["hit"]
    assert kept["miss"] > before_kept["miss"]
    course_list(student, course.semester_id)
    served = copy_lookups()
    assert served["hit"] > kept["hit"]


def test_metrics_count_no_copy_lookups_when_copies_are_off(student, make_course, settings):
    settings.CACHE_LOCAL_COPIES = False
    course = make_course(semester_id=unique_semester())
    before = copy_lookups()
    for _ in range(3):
        course_list(student, course.semester_id)
    assert copy_lookups() == before


def detail_of(person, course_id: str) -> dict:
    response = person.client.get(f"/api/courses/{course_id}")
    assert response.status_code == 200, response.content
    return response.json()


def test_a_kept_course_detail_is_served_without_redis(student, make_course, monkeypatch):
    course = make_course()
    first = detail_of(student, course.course_id)
    detail_of(student, course.course_id)  # a hit read whole: kept
    round_trips = RoundTrips(monkeypatch)
    assert detail_of(student, course.course_id) == first
    assert round_trips.sent == []


def test_a_kept_course_detail_follows_seats_edits_and_deletes(student, make_person, make_course, instructor):
    course = make_course()
    for _ in range(3):
        assert detail_of(student, course.course_id)["enrolled_count"] == 0
    enrollment_services.enroll(actor=make_person(Role.STUDENT).actor, course_id=course.course_id)
    assert detail_of(student, course.course_id)["enrolled_count"] == 1
    detail_of(student, course.course_id)
    response = instructor.client.patch(f"/api/courses/{course.course_id}", {"title": "Renamed"}, format="json")
    assert response.status_code == 200, response.content
    assert detail_of(student, course.course_id)["title"] == "Renamed"

    unenrolled = make_course()
    for _ in range(2):
        detail_of(student, unenrolled.course_id)
    assert instructor.client.delete(f"/api/courses/{unenrolled.course_id}").status_code == 204
    assert student.client.get(f"/api/courses/{unenrolled.course_id}").status_code == 404


def test_the_courses_of_a_page_read_whole_are_served_without_redis(student, make_course, monkeypatch):
    first = make_course(semester_id=unique_semester())
    second = make_course(semester_id=first.semester_id)
    course_list(student, first.semester_id)  # loads the page
    listed = course_list(student, first.semester_id).json()["results"]  # read whole from Redis: kept
    round_trips = RoundTrips(monkeypatch)
    details = [detail_of(student, course.course_id) for course in (first, second)]
    assert round_trips.sent == []
    assert {course["course_id"]: course for course in details} == {course["course_id"]: course for course in listed}


def test_a_course_kept_from_a_page_follows_seats_and_edits(student, make_person, make_course, instructor):
    course = make_course(semester_id=unique_semester())
    course_list(student, course.semester_id)
    course_list(student, course.semester_id)
    enrollment_services.enroll(actor=make_person(Role.STUDENT).actor, course_id=course.course_id)
    assert detail_of(student, course.course_id)["enrolled_count"] == 1
    course_list(student, course.semester_id)  # read whole again, and kept
    response = instructor.client.patch(f"/api/courses/{course.course_id}", {"title": "Renamed"}, format="json")
    assert response.status_code == 200, response.content
    assert detail_of(student, course.course_id)["title"] == "Renamed"


def test_a_redis_that_refuses_tracking_serves_every_read_as_before(student, make_course, monkeypatch, caplog):
    """A managed Redis may forbid CLIENT TRACKING (here an ACL): no copies, no breaker, no errors."""
    course = make_course()
    redis = other_process()
    redis.execute_command("ACL", "SETUSER", "default", "-client|tracking")
    try:
        local_copies.reset()  # reconnects, and is refused
        for _ in range(3):
            assert seats_of(student, course.semester_id) == 0
            assert detail_of(student, course.course_id)["enrolled_count"] == 0
        round_trips = RoundTrips(monkeypatch)
        course_list(student, course.semester_id)
        assert len(round_trips.sent) == 1
        assert len(local_copies) == 0
        assert "Redis refused tracking" in caplog.text
    finally:
        redis.execute_command("ACL", "SETUSER", "default", "+client|tracking")
        local_copies.reset()


# Long enough for Redis's message to cross loopback; the tests assert an order, not a speed.
MESSAGE_DELAY_SECONDS = 0.05


def test_a_copy_goes_when_any_client_changes_its_key():
    key = keys.course_seats("local-copy-test").name
    with local_copies.filling() as fill:
        fill.keep("a test copy", b"value", keys=[key])
    assert local_copies.lookup("a test copy") == b"value"
    other_process().set(key, b"changed")
    time.sleep(MESSAGE_DELAY_SECONDS)
    assert local_copies.lookup("a test copy") is None


def test_a_change_while_a_fill_reads_keeps_it_from_being_kept():
    key = keys.course_seats("local-copy-race").name
    with local_copies.filling() as fill:
        value = get_redis_connection("default").get(key)
        other_process().set(key, b"changed after the read")
        time.sleep(MESSAGE_DELAY_SECONDS)
        fill.keep("a raced copy", value, keys=[key])
    assert local_copies.lookup("a raced copy") is None


def test_a_key_redis_does_not_broadcast_is_never_copied():
    with local_copies.filling() as fill:
        fill.keep("an unwatched copy", b"value", keys=[keys.user_profile("someone").name])
    assert local_copies.lookup("an unwatched copy") is None
