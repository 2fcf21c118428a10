"""Each server process keeps copies of course list pages, course details, students' enrollment pages
and token checks (courseproject/caching/local_copies.py). A write answered by one process must show
in the very next read on any process: every trial warms both processes' copies, writes, and reads at
once from both. Trials: COPY_TRIALS (20 by default).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.conftest import open_semester, unique_email
from tests.e2e.test_stack import send_until_admitted, signed_in_session

pytestmark = pytest.mark.e2e

TRIALS = int(os.environ.get("COPY_TRIALS", "20"))
# New connections spread over the server's two processes; this many reads reach both.
READS = 12


def listed_counts(session: requests.Session, url: str) -> list[int]:
    """The enrolled count READS reads give, four at a time: from a list page or a course detail."""

    def read(_: int) -> int:
        response = session.get(url)
        assert response.status_code == 200, response.text
        body = response.json()
        return (body["results"][0] if "results" in body else body)["enrolled_count"]

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(read, range(READS)))


@pytest.mark.parametrize("trial", range(TRIALS))
def test_an_enroll_shows_in_the_next_read_on_every_process(server_url, make_course, trial):
    course = make_course(semester_id=open_semester(), capacity=5)
    urls = [
        f"{server_url}/api/courses?semester_id={course.semester_id}",
        f"{server_url}/api/courses/{course.course_id}",
    ]
    reader = signed_in_session(server_url, unique_email())
    for url in urls:
        assert listed_counts(reader, url) == [0] * READS  # now kept by both processes
    for expected in (1, 2):
        writer = signed_in_session(server_url, unique_email())
        enrolled = send_until_admitted(writer, "POST", f"{server_url}/api/enrollments", {"course_id": course.course_id})
        assert enrolled.status_code == 201, enrolled.text
        for url in urls:
            assert listed_counts(reader, url) == [expected] * READS


def my_statuses(session: requests.Session, url: str, course_id: str) -> list[str | None]:
    """The course's status on the student's enrollments page in READS reads, four at a time."""

    def read(_: int) -> str | None:
        response = session.get(url)
        assert response.status_code == 200, response.text
        return next((entry["status"] for entry in response.json()["results"] if entry["course_id"] == course_id), None)

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(read, range(READS)))


@pytest.mark.parametrize("trial", range(TRIALS))
def test_a_students_enroll_and_drop_show_in_their_next_read_on_every_process(server_url, make_course, trial):
    course = make_course(semester_id=open_semester(), capacity=5)
    url = f"{server_url}/api/enrollments/me"
    student = signed_in_session(server_url, unique_email())
    assert my_statuses(student, url, course.course_id) == [None] * READS  # now kept by both processes
    enrolled = send_until_admitted(student, "POST", f"{server_url}/api/enrollments", {"course_id": course.course_id})
    assert enrolled.status_code == 201, enrolled.text
    assert my_statuses(student, url, course.course_id) == ["enrolled"] * READS
    dropped = send_until_admitted(student, "DELETE", f"{server_url}/api/enrollments/{course.course_id}", None)
    assert dropped.status_code == 204, dropped.text
    assert my_statuses(student, url, course.course_id) == ["dropped"] * READS


def test_a_sign_out_is_refused_at_once_on_every_process(server_url, make_course):
    course = make_course(semester_id=open_semester())
    url = f"{server_url}/api/courses?semester_id={course.semester_id}"
    for _ in range(TRIALS):
        reader = signed_in_session(server_url, unique_email())
        listed_counts(reader, url)
        signed_out = reader.post(f"{server_url}/api/auth/logout", json={"all": True})
        assert signed_out.status_code in (200, 204), signed_out.text
        with ThreadPoolExecutor(max_workers=4) as pool:
            statuses = list(pool.map(requests.Session.get, [reader] * READS, [url] * READS))
        assert [response.status_code for response in statuses] == [401] * READS
