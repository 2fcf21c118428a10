"""The API served by the web server's processes, and the Celery worker, as `make run` starts them."""

from __future__ import annotations

import http.client
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
import requests
from django.conf import settings

from accounts.models import Role
from courseproject.celery import app
from courseproject.observability import counters
from courses.models import Course
from tests.conftest import TEST_PASSWORD, access_token, unique_email

pytestmark = pytest.mark.e2e


def send_until_admitted(session: requests.Session, method: str, url: str, body: dict | None) -> requests.Response:
    """Like a client of the API: a write refused with writes_busy (the write slots and queue of the
    process that got it were full; enrollments/admission.py) is sent again after its Retry-After."""
    for _ in range(60):
        response = session.request(method, url, json=body)
        if response.status_code != 429 or response.json().get("code") != "writes_busy":
            return response
        time.sleep(float(response.headers["Retry-After"]))
    raise AssertionError(f"{method} {url} was refused writes_busy 60 times")


def signed_in_session(base_url: str, email: str) -> requests.Session:
    session = requests.Session()
    # A new connection per request: the kernel spreads them over the server's processes, so a
    # session's reads reach every process (a kept-alive connection stays with one).
    session.headers["Connection"] = "close"
    registered = session.post(
        f"{base_url}/api/auth/register", json={"email": email, "password": TEST_PASSWORD, "name": "E2E"}
    )
    assert registered.status_code == 201, registered.text
    tokens = session.post(f"{base_url}/api/auth/login", json={"email": email, "password": TEST_PASSWORD}).json()
    session.headers["Authorization"] = f"Bearer {tokens['access']}"
    return session


def test_students_racing_across_worker_processes_never_oversell(server_url, make_course):
    course = make_course(capacity=10)
    sessions = [signed_in_session(server_url, unique_email("racer")) for _ in range(40)]
    start = threading.Barrier(len(sessions))

    def attempt(session: requests.Session) -> int:
        start.wait()
        return send_until_admitted(
            session, "POST", f"{server_url}/api/enrollments", {"course_id": course.course_id}
        ).status_code

    with ThreadPoolExecutor(max_workers=len(sessions)) as pool:
        statuses = list(pool.map(attempt, sessions))
    assert statuses.count(201) == 10
    assert statuses.count(409) == 30
    assert Course.get(course.course_id, consistent_read=True).enrolled_count == 10


def test_the_served_api_answers_the_contract(server_url, make_person, make_course):
    instructor = make_person(Role.INSTRUCTOR)
    course = make_course(owner=instructor)
    session = signed_in_session(server_url, unique_email())
    page = session.get(f"{server_url}/api/courses", params={"semester_id": course.semester_id}).json()
    assert [found["course_id"] for found in page["results"]] == [course.course_id]
    assert session.post(f"{server_url}/api/enrollments", json={"course_id": course.course_id}).status_code == 201
    mine = session.get(f"{server_url}/api/enrollments/me").json()["results"]
    assert mine[0]["course"]["enrolled_count"] == 1
    assert session.delete(f"{server_url}/api/enrollments/{course.course_id}").status_code == 204
    assert requests.get(f"{server_url}/api/health").json()["status"] == "ok"
    assert requests.get(f"{server_url}/api/docs/").status_code == 200


def test_the_celery_worker_starts_and_answers_on_the_broker(celery_worker):
    replies = app.control.ping(timeout=2)
    assert any(name.startswith("e2e@") for reply in replies for name in reply)


def _metric(text: str, family: str, outcome: str) -> int:
    prefix = f'course_cache_lookups_total{{family="{family}",outcome="{outcome}"}} '
    return next(int(line.removeprefix(prefix)) for line in text.splitlines() if line.startswith(prefix))


@pytest.mark.skipif(not settings.CACHE_ENABLED, reason="exercises the cache")
def test_a_write_is_visible_to_every_worker_at_once(server_url, make_person, make_course):
    instructor = make_person(Role.INSTRUCTOR)
    course = make_course(owner=instructor, title="Before", capacity=5)
    reader = signed_in_session(server_url, unique_email())
    detail_url = f"{server_url}/api/courses/{course.course_id}"
    list_params = {"semester_id": course.semester_id}

    def titles() -> set[str]:
        details = {reader.get(detail_url).json()["title"] for _ in range(12)}
        listed = {
            reader.get(f"{server_url}/api/courses", params=list_params).json()["results"][0]["title"] for _ in range(12)
        }
        return details | listed

    assert titles() == {"Before"}  # every worker has read (and cached) it
    writer = requests.Session()
    writer.headers["Authorization"] = f"Bearer {access_token(instructor.user)}"
    assert writer.patch(detail_url, json={"title": "After"}).status_code == 200
    assert titles() == {"After"}

    student = signed_in_session(server_url, unique_email())
    assert student.post(f"{server_url}/api/enrollments", json={"course_id": course.course_id}).status_code == 201
    seats = {
        reader.get(f"{server_url}/api/courses", params=list_params).json()["results"][0]["seats_available"]
        for _ in range(12)
    }
    assert seats == {4}


@pytest.mark.skipif(not settings.CACHE_ENABLED, reason="exercises the cache")
def test_metrics_add_up_the_lookups_of_every_worker(server_url, make_course):
    course = make_course()
    reader = signed_in_session(server_url, unique_email())
    counters.flush()
    time.sleep(1.5)  # let every worker's flusher run
    before = requests.get(f"{server_url}/metrics").text
    for _ in range(40):
        assert reader.get(f"{server_url}/api/courses/{course.course_id}").status_code == 200
    time.sleep(1.5)
    after = requests.get(f"{server_url}/metrics").text
    lookups = sum(
        _metric(after, "course_detail", outcome) - _metric(before, "course_detail", outcome)
        for outcome in ("hit", "miss")
    )
    assert lookups == 40
    assert _metric(after, "course_detail", "hit") - _metric(before, "course_detail", "hit") >= 39


def test_more_kept_alive_connections_than_threads_are_all_served(server_url):
    """A load balancer keeps many connections open to each task. granian counts an open keep-alive
    connection against its backpressure whether or not a request is in flight: set to the thread
    count, the ninth connection here would wait forever for one of the first eight to close."""
    address = urlsplit(server_url)
    connections = [http.client.HTTPConnection(address.hostname, address.port, timeout=5) for _ in range(24)]
    try:
        for connection in connections:  # each stays open (HTTP/1.1 keep-alive) while the next asks
            connection.request("GET", "/api/health")
            response = connection.getresponse()
            response.read()
            assert response.status == 200
            assert not response.will_close
    finally:
        for connection in connections:
            connection.close()
