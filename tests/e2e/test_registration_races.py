"""The registration rules under concurrency, across web server processes: one student firing many
enrolls at once gets exactly what the rules allow, never more, an enroll racing a drop leaves the
totals right, and a rule an admin changes holds at once on every process. Each race runs RACE_TRIALS
times (5 by default; the closing note of the registration-rules issue reports a run of 100)."""

from __future__ import annotations

import os
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import requests

from accounts.models import Role
from enrollments.models import Enrollment, EnrollmentStatus, Schedule
from tests.conftest import access_token, open_semester, unique_email
from tests.e2e.test_stack import send_until_admitted, signed_in_session

pytestmark = pytest.mark.e2e

TRIALS = int(os.environ.get("RACE_TRIALS", "5"))


def fire_at_once(
    session: requests.Session, requests_to_send: list[tuple[str, str, dict | None]]
) -> list[requests.Response]:
    """Send every (method, url, body) from its own thread, all released by one barrier (and again
    after Retry-After while the server's write slots are taken)."""
    start = threading.Barrier(len(requests_to_send))

    def send(request: tuple[str, str, dict | None]) -> requests.Response:
        method, url, body = request
        start.wait()
        return send_until_admitted(session, method, url, body)

    with ThreadPoolExecutor(max_workers=len(requests_to_send)) as pool:
        return list(pool.map(send, requests_to_send))


def enrolled_courses(user_id: str, semester_id: int) -> list[str]:
    return [
        enrollment.course_id
        for enrollment in Enrollment.by_user.query(user_id)
        if enrollment.status == EnrollmentStatus.ENROLLED and int(enrollment.semester_id) == semester_id
    ]


def schedule_credits(user_id: str, semester_id: int) -> int:
    return int(Schedule.get(user_id, semester_id, consistent_read=True).enrolled_credits)


def student_id_of(session: requests.Session, base_url: str) -> str:
    return session.get(f"{base_url}/api/auth/me").json()["user_id"]


@pytest.mark.parametrize("trial", range(TRIALS))
def test_twelve_parallel_enrolls_under_an_18_credit_limit_give_exactly_six(server_url, make_course, trial):
    semester_id = open_semester(credit_limit=18)
    courses = [make_course(semester_id=semester_id, credits=3) for _ in range(12)]
    session = signed_in_session(server_url, unique_email("credits"))
    responses = fire_at_once(
        session, [("POST", f"{server_url}/api/enrollments", {"course_id": course.course_id}) for course in courses]
    )
    outcomes = Counter(
        response.status_code if response.status_code != 409 else response.json()["code"] for response in responses
    )
    assert outcomes == {201: 6, "credit_limit_exceeded": 6}
    user_id = student_id_of(session, server_url)
    assert len(enrolled_courses(user_id, semester_id)) == 6
    assert schedule_credits(user_id, semester_id) == 18


@pytest.mark.parametrize("trial", range(TRIALS))
def test_five_parallel_enrolls_into_overlapping_courses_give_exactly_one(server_url, make_course, trial):
    semester_id = open_semester()
    courses = [
        make_course(
            semester_id=semester_id, meetings=[{"days": ["MON"], "start": f"09:{10 * number:02d}", "end": "11:00"}]
        )
        for number in range(5)
    ]
    session = signed_in_session(server_url, unique_email("overlap"))
    responses = fire_at_once(
        session, [("POST", f"{server_url}/api/enrollments", {"course_id": course.course_id}) for course in courses]
    )
    outcomes = Counter(
        response.status_code if response.status_code != 409 else response.json()["code"] for response in responses
    )
    assert outcomes == {201: 1, "time_conflict": 4}
    assert len(enrolled_courses(student_id_of(session, server_url), semester_id)) == 1


@pytest.mark.parametrize("trial", range(TRIALS))
def test_an_enroll_racing_a_drop_never_leaves_the_totals_wrong(server_url, make_course, trial):
    semester_id = open_semester(credit_limit=3)
    held, wanted = (make_course(semester_id=semester_id, credits=3) for _ in range(2))
    session = signed_in_session(server_url, unique_email("swap"))
    assert session.post(f"{server_url}/api/enrollments", json={"course_id": held.course_id}).status_code == 201
    dropped, enrolled = fire_at_once(
        session,
        [
            ("DELETE", f"{server_url}/api/enrollments/{held.course_id}", None),
            ("POST", f"{server_url}/api/enrollments", {"course_id": wanted.course_id}),
        ],
    )
    assert dropped.status_code == 204
    assert enrolled.status_code == 201 or enrolled.json()["code"] == "credit_limit_exceeded"
    user_id = student_id_of(session, server_url)
    courses_now = enrolled_courses(user_id, semester_id)
    assert courses_now == ([wanted.course_id] if enrolled.status_code == 201 else [])
    assert schedule_credits(user_id, semester_id) == 3 * len(courses_now)


def test_a_window_an_admin_just_closed_holds_on_every_worker_process(server_url, make_course, make_person):
    """Each web server process has served (and cached) the semester before the change; the next enrolls
    all obey the new window, whichever process serves them."""
    admin = make_person(Role.ADMIN)
    semester_id = open_semester()
    courses = [make_course(semester_id=semester_id) for _ in range(8)]
    session = signed_in_session(server_url, unique_email("window"))
    for _ in range(8):
        assert session.get(f"{server_url}/api/semesters/{semester_id}").status_code == 200
    admin_session = requests.Session()
    admin_session.headers["Authorization"] = f"Bearer {access_token(admin.user)}"
    later = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    changed = admin_session.patch(f"{server_url}/api/semesters/{semester_id}", json={"registration_opens_at": later})
    assert changed.status_code == 200, changed.text
    codes = [
        session.post(f"{server_url}/api/enrollments", json={"course_id": course.course_id}).json().get("code")
        for course in courses
    ]
    assert codes == ["registration_closed"] * len(courses)
