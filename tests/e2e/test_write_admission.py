"""Write admission in a real web server: an enroll stuck on DynamoDB holds its process's only write
slot (WEB_WRITE_SLOTS=1); of two more students' enrolls, one waits in the queue of one
(WEB_WRITE_QUEUE=1) and the other is answered at once with 429 writes_busy and Retry-After and
writes nothing, while reads are served from the cache; once the first enroll is through, the queued
one is taken, and the refused one, sent again, too."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

import pytest
import requests
from django.conf import settings

from devstack import services as devstack
from enrollments.models import Enrollment
from tests.conftest import TEST_LOG_DIR, open_semester, unique_email
from tests.e2e.conftest import TEST_ENV
from tests.e2e.proxy import PausableProxy
from tests.e2e.test_stack import signed_in_session

pytestmark = pytest.mark.e2e


@pytest.fixture
def server_behind_a_held_dynamodb(local_services) -> Iterator[tuple[str, PausableProxy]]:
    """One granian process with 8 threads, one write slot and a queue of one, its DynamoDB behind a
    pausable relay."""
    proxy = PausableProxy(upstream_port=settings.TEST_DYNAMODB_PORT)
    port = devstack.free_port()
    env = {
        **TEST_ENV,
        **{"WEB_WORKERS": "1", "WEB_THREADS": "8", "WEB_WRITE_SLOTS": "1", "WEB_WRITE_QUEUE": "1"},
        "WEB_WRITE_WAIT_SECONDS": "60",
    }
    server = devstack.web_server(
        port=port, log_path=TEST_LOG_DIR / "web-admission.log", env={**env, "TEST_DYNAMODB_PORT": str(proxy.port)}
    ).start(timeout=60)
    try:
        yield f"http://127.0.0.1:{port}", proxy
    finally:
        proxy.resume()
        server.stop()
        proxy.close()


@pytest.mark.skipif(
    not settings.CACHE_ENABLED, reason="reads go on from the cache while DynamoDB is held; without it, they wait too"
)
def test_writes_past_the_slot_queue_or_are_refused_at_once_while_reads_go_on(
    server_behind_a_held_dynamodb, make_course
):
    base_url, proxy = server_behind_a_held_dynamodb
    course = make_course(semester_id=open_semester(), capacity=5)
    first, second, third = (signed_in_session(base_url, unique_email("admission")) for _ in range(3))
    detail_url, enroll_url = f"{base_url}/api/courses/{course.course_id}", f"{base_url}/api/enrollments"
    for session in (first, second, third):  # the course and each student's sign-in check, in the cache
        assert session.get(detail_url).status_code == 200

    def enroll(session: requests.Session) -> tuple[requests.Response, float]:
        started = time.monotonic()
        response = session.post(enroll_url, json={"course_id": course.course_id})
        return response, time.monotonic() - started

    proxy.pause()
    with ThreadPoolExecutor(max_workers=3) as pool:
        held = pool.submit(enroll, first)
        proxy.wait_until_holding()  # the first enroll is inside the slot, waiting on DynamoDB
        # One of the next two takes the queue's place and waits; the other finds it full.
        others = [pool.submit(enroll, session) for session in (second, third)]
        done, _ = wait(others, timeout=30, return_when=FIRST_COMPLETED)  # the refused one; the other waits
        refused, refused_after = done.pop().result()
        read = third.get(detail_url)
        assert not held.done()
        proxy.resume()
        assert held.result(timeout=30)[0].status_code == 201
        answers = [future.result(timeout=30) for future in others]

    assert (refused.status_code, refused.json()["code"]) == (429, "writes_busy"), refused.text
    assert refused.headers["Retry-After"] == "1"
    assert refused_after < 1.0, "a write that finds the queue full must not wait"
    assert read.status_code == 200 and read.json()["course_id"] == course.course_id
    queued = next(response for response, _ in answers if response is not refused)
    assert queued.status_code == 201, queued.text
    refused_session = second if answers[0][0] is refused else third
    refused_id = refused_session.get(f"{base_url}/api/auth/me").json()["user_id"]
    assert list(Enrollment.by_user.query(refused_id)) == []

    # Sent again, as the Retry-After says: taken, one seat each.
    assert refused_session.post(enroll_url, json={"course_id": course.course_id}).status_code == 201
    seats = requests.get(detail_url, headers=refused_session.headers).json()["seats_available"]
    assert seats == 2
