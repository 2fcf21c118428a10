"""Write admission (enrollments/admission.py): past WEB_WRITE_SLOTS writes in flight in a
process, an enroll or drop waits its turn in a queue of WEB_WRITE_QUEUE, first come first served;
past the queue or its wait, it is answered 429 writes_busy with Retry-After and writes nothing;
reads pass; the slot comes back however the write ended. While the slots and the queue are all
taken, WritesBusyMiddleware refuses an admitted write before authentication, with the same answer.
A slot is held here by taking it as a request in flight would; tests/e2e/test_write_admission.py
holds one with a real request stuck on DynamoDB."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings

from courseproject.observability import counters
from courses.models import Course
from enrollments.admission import WRITE_SLOTS
from enrollments.models import Enrollment


@pytest.fixture
def one_slot(settings) -> Iterator[None]:
    """One write slot and no queue: a write past the slot is refused at once."""
    settings.WEB_WRITE_SLOTS, settings.WEB_WRITE_QUEUE = 1, 0
    assert WRITE_SLOTS.in_flight == 0
    yield
    assert WRITE_SLOTS.in_flight == 0, "a write slot was not given back"


@pytest.fixture
def slot_taken(one_slot) -> Iterator[None]:
    """The process's only write slot, held as by a write in flight."""
    assert WRITE_SLOTS.take()
    yield
    WRITE_SLOTS.give_back()


def enroll(person, course: Course):
    return person.client.post("/api/enrollments", {"course_id": course.course_id}, format="json")


def test_an_enroll_past_the_slots_is_429_writes_busy_with_retry_after_and_writes_nothing(
    slot_taken, student, make_course
):
    course = make_course(capacity=5)
    response = enroll(student, course)
    assert response.status_code == 429
    assert response.json()["code"] == "writes_busy"
    assert response.headers["Retry-After"] == "1"
    assert "send it again in 1 second" in response.json()["detail"]
    assert list(Enrollment.by_user.query(student.user_id)) == []
    assert Course.get(course.course_id, consistent_read=True).enrolled_count == 0


def test_a_drop_past_the_slots_is_refused_and_the_seat_stays(one_slot, student, make_course):
    course = make_course(capacity=5)
    assert enroll(student, course).status_code == 201
    assert WRITE_SLOTS.take()
    try:
        response = student.client.delete(f"/api/enrollments/{course.course_id}")
    finally:
        WRITE_SLOTS.give_back()
    assert (response.status_code, response.json()["code"]) == (429, "writes_busy")
    assert Course.get(course.course_id, consistent_read=True).enrolled_count == 1
    assert student.client.delete(f"/api/enrollments/{course.course_id}").status_code == 204


def test_reads_pass_while_every_write_slot_is_taken(slot_taken, student, make_course):
    course = make_course()
    assert student.client.get(f"/api/courses/{course.course_id}").status_code == 200
    assert student.client.get("/api/enrollments/me").status_code == 200
    assert student.client.get(f"/api/enrollments/{course.course_id}").status_code == 404


def test_a_refused_write_spends_none_of_the_students_write_allowance(settings, one_slot, student, make_course):
    settings.WRITE_THROTTLE_RATE, settings.WRITE_THROTTLE_BURST = "1/min", 1
    course = make_course()
    assert WRITE_SLOTS.take()
    try:
        for _ in range(3):
            assert enroll(student, course).json()["code"] == "writes_busy"
    finally:
        WRITE_SLOTS.give_back()
    assert enroll(student, course).status_code == 201
    # The allowance of one is spent now: the per-user throttle answers, with its own code.
    assert enroll(student, make_course()).json()["code"] == "throttled"


def test_the_slot_comes_back_after_every_kind_of_answer(one_slot, student, make_course):
    full = make_course(capacity=0)
    course = make_course(capacity=5)
    answers = [
        enroll(student, course).status_code,
        enroll(student, course).status_code,  # enrolled already
        enroll(student, full).status_code,
        student.client.post("/api/enrollments", {"course_id": 7}, format="json").status_code,
        student.client.post("/api/enrollments", {"course_id": "no-such-course"}, format="json").status_code,
        student.client.delete(f"/api/enrollments/{full.course_id}").status_code,
        student.client.delete(f"/api/enrollments/{course.course_id}").status_code,
    ]
    assert answers == [201, 200, 409, 400, 404, 404, 204]
    assert WRITE_SLOTS.in_flight == 0


def test_an_unauthenticated_write_takes_no_slot_nor_a_place_in_the_queue(settings, slot_taken, client):
    # A place is free in the queue, so the write reaches authentication; had it queued for the slot,
    # it would have waited the 30 s out and been refused.
    settings.WEB_WRITE_QUEUE, settings.WEB_WRITE_WAIT_SECONDS = 1, 30
    response = client.post("/api/enrollments", {"course_id": "x"}, content_type="application/json")
    assert response.status_code == 401
    assert WRITE_SLOTS.waiting == 0


def test_while_slots_and_queue_are_full_a_write_is_refused_before_its_token_is_checked(slot_taken, client):
    without_token = client.post("/api/enrollments", {"course_id": "x"}, content_type="application/json")
    assert (without_token.status_code, without_token.json()["code"]) == (429, "writes_busy")
    bad_token = client.delete("/api/enrollments/x", HTTP_AUTHORIZATION="Bearer not-a-token")
    assert (bad_token.status_code, bad_token.json()["code"]) == (429, "writes_busy")
    WRITE_SLOTS.give_back()
    try:
        # Sent again once the process has room, the same request gets its real answer.
        assert client.post("/api/enrollments", {"course_id": "x"}, content_type="application/json").status_code == 401
    finally:
        assert WRITE_SLOTS.take()  # for slot_taken to give back


def test_the_refusal_before_django_rest_framework_answers_as_the_views_refusal(
    settings, slot_taken, student, make_course
):
    course = make_course()
    at_the_door = enroll(student, course)  # slots and queue full: refused before authentication
    settings.WEB_WRITE_QUEUE, settings.WEB_WRITE_WAIT_SECONDS = 1, 0.05
    in_the_view = enroll(student, course)  # a place in the queue: refused by the view after its wait
    for response in (at_the_door, in_the_view):
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "1"
        assert response.headers["Content-Type"] == "application/json"
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "X-Request-Id" in response.headers
    assert at_the_door.json() == in_the_view.json()
    assert at_the_door.json() == {
        "detail": "Too many enrollment changes are being made right now; yours was not made. "
        "Please send it again in 1 second.",
        "code": "writes_busy",
    }


def test_while_full_only_the_admitted_writes_are_refused(slot_taken, student, instructor, make_course, anonymous):
    course = make_course(owner=instructor)
    answers = {
        "sign in": anonymous.post("/api/auth/login", {"email": "nobody@example.edu", "password": "x"}, format="json"),
        "course edit": instructor.client.patch(f"/api/courses/{course.course_id}", {"title": "Mine"}, format="json"),
        "my enrollments": student.client.get("/api/enrollments/me"),
        # The enrollment routes answer these methods 405 whether the process is busy or not.
        "delete me": student.client.delete("/api/enrollments/me"),
        "post to one": student.client.post(f"/api/enrollments/{course.course_id}", {}, format="json"),
        "put": student.client.put(f"/api/enrollments/{course.course_id}", {}, format="json"),
        "unknown path": student.client.post("/api/enrollments/x/y", {}, format="json"),
    }
    assert {name: response.status_code for name, response in answers.items()} == {
        "sign in": 401,
        "course edit": 200,
        "my enrollments": 200,
        "delete me": 405,
        "post to one": 405,
        "put": 405,
        "unknown path": 404,
    }


@pytest.mark.skipif(not settings.CACHE_ENABLED, reason="counters live in the cache's Redis")
def test_refusals_are_counted_for_the_metrics_whichever_place_refused(settings, slot_taken, student, make_course):
    before = counters.totals().get("writes:refused", 0)
    enroll(student, make_course())  # before authentication: slots and queue full
    settings.WEB_WRITE_QUEUE, settings.WEB_WRITE_WAIT_SECONDS = 1, 0.05
    enroll(student, make_course())  # in the view, after its wait
    assert counters.totals()["writes:refused"] == before + 2
    assert "course_writes_refused_total " in student.client.get("/metrics").content.decode()


def test_no_cap_with_zero_slots(settings, student, make_course):
    settings.WEB_WRITE_SLOTS = 0
    held = [WRITE_SLOTS.take() for _ in range(50)]
    try:
        assert all(held)
        assert enroll(student, make_course()).status_code == 201
    finally:
        for _ in held:
            WRITE_SLOTS.give_back()


def wait_until(condition, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_write_past_the_slots_waits_its_turn_in_the_queue(settings, slot_taken, student, make_course):
    settings.WEB_WRITE_QUEUE, settings.WEB_WRITE_WAIT_SECONDS = 1, 30
    course = make_course(capacity=5)
    with ThreadPoolExecutor(max_workers=1) as pool:
        queued = pool.submit(enroll, student, course)
        wait_until(lambda: WRITE_SLOTS.waiting == 1)
        # The queue is full: the next write is refused at once.
        assert enroll(student, make_course()).json()["code"] == "writes_busy"
        assert not queued.done()
        WRITE_SLOTS.give_back()  # the write in flight is done: the queued one goes
        try:
            assert queued.result(timeout=30).status_code == 201
        finally:
            assert WRITE_SLOTS.take()  # for slot_taken to give back


def test_a_write_that_waits_out_its_time_is_refused_and_writes_nothing(settings, slot_taken, student, make_course):
    settings.WEB_WRITE_QUEUE, settings.WEB_WRITE_WAIT_SECONDS = 1, 0.2
    course = make_course()
    started = time.monotonic()
    response = enroll(student, course)
    assert (response.status_code, response.json()["code"]) == (429, "writes_busy")
    assert time.monotonic() - started >= 0.2
    assert WRITE_SLOTS.waiting == 0
    assert Course.get(course.course_id, consistent_read=True).enrolled_count == 0


def test_the_queue_is_first_come_first_served(settings):
    settings.WEB_WRITE_SLOTS, settings.WEB_WRITE_QUEUE, settings.WEB_WRITE_WAIT_SECONDS = 1, 10, 30
    admitted: list[int] = []

    def write(number: int) -> None:
        assert WRITE_SLOTS.take()
        admitted.append(number)
        WRITE_SLOTS.give_back()

    assert WRITE_SLOTS.take()
    threads = []
    for number in range(6):
        threads.append(threading.Thread(target=write, args=(number,)))
        threads[-1].start()
        wait_until(lambda count=number + 1: WRITE_SLOTS.waiting == count)
    WRITE_SLOTS.give_back()
    for thread in threads:
        thread.join(timeout=10)
    assert admitted == list(range(6))
    assert (WRITE_SLOTS.in_flight, WRITE_SLOTS.waiting) == (0, 0)
