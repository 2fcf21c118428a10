"""Registration week: students browse, check their enrollments and sometimes enroll or drop;
instructors look after their courses. Each simulated user signs in once and reuses its token.

    .venv/bin/locust -f locustfiles/registration.py --host http://127.0.0.1:8000          # web UI
    .venv/bin/locust -f locustfiles/registration.py --host http://127.0.0.1:8000 \
        --headless -u 200 -r 10 -t 2m --html .run/locust.html --json-file .run/locust.json

The defaults match `make run`'s demo data; `make bench` sets the BENCH_* variables below for its own
dataset. Never import this module from a process that has imported boto3 or requests: locust's
gevent must patch the standard library first (benchmarks/locust_runner.py runs locust as a subprocess).

- BENCH_API_PREFIX: "/api" (the product) or "/baseline/api" (the benchmark's "before" baseline);
  signing in always uses /api/auth/login.
- BENCH_SEMESTER_IDS, BENCH_DEPARTMENTS, BENCH_STUDENTS, BENCH_INSTRUCTORS: the seeded dataset
  (by default make run's: its three semesters around today, 20 departments, 60 students, 10 instructors).
- BENCH_BROWSER_FIRST_STUDENT: students from this number on browse (the rush's enrollers come first).
"""

from __future__ import annotations

import itertools
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

import gevent
from locust import FastHttpUser, between, events, task
from locust.exception import StopUser

# The demo's semesters follow the calendar (demo/calendar.py imports no Django); locust puts only this
# directory on the path, so the repository's root is added for it.
sys.path.append(str(Path(__file__).resolve().parent.parent))
from demo.calendar import demo_semester_ids
from demo.logins import DEMO_PASSWORD

__all__ = ["InstructorUser", "SignedInUser", "StudentUser"]


def _int_env(name: str, default: int) -> int:
    """Unset or empty (make exports an unset variable empty): the default."""
    return int(os.environ.get(name) or default)


def _int_list(name: str, default: str) -> list[int]:
    return [int(value) for value in (os.environ.get(name) or default).split(",") if value.strip()]


API = os.environ.get("BENCH_API_PREFIX") or "/api"
SEMESTER_IDS = _int_list("BENCH_SEMESTER_IDS", ",".join(map(str, demo_semester_ids(3))))
DEPARTMENTS = _int_env("BENCH_DEPARTMENTS", 20)
STUDENTS = _int_env("BENCH_STUDENTS", 60)
INSTRUCTORS = _int_env("BENCH_INSTRUCTORS", 10)
BROWSER_FIRST_STUDENT = _int_env("BENCH_BROWSER_FIRST_STUDENT", 1)

# Each locust process hands out accounts in turn, so concurrent users are different people.
_browser_numbers = itertools.count(0)
_instructor_numbers = itertools.count(1)


def error_code(response: Any) -> str | None:
    """The `code` of an API error answer, or None."""
    try:
        return response.json().get("code")
    except (ValueError, AttributeError, TypeError):
        return None


class SignedInUser(FastHttpUser):
    abstract = True
    # The "before" baseline answers in seconds under this load; it must be measured, not time out.
    network_timeout = 180.0
    connection_timeout = 180.0
    user_id = ""
    headers: dict[str, str] = {}

    def sign_in(self, email: str) -> None:
        with self.client.post(
            "/api/auth/login",
            json={"email": email, "password": DEMO_PASSWORD},
            name="POST /api/auth/login",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"sign-in of {email} answered {response.status_code}")
                raise StopUser()
            body = response.json()
        self.user_id = body["user"]["user_id"]
        self.headers = {"Authorization": f"Bearer {body['access']}"}

    def write(self, method: str, path: str, name: str, *, answers: tuple[int, ...], body: dict | None = None) -> int:
        """Send a write and give its status: one of `answers` is a success (409, a full course, is an
        answer too). A 429 writes_busy (every write slot of the server's process was taken) is sent
        again after its Retry-After, a little spread, as a client would; it is no failure. Every
        attempt carries its first click's time (context first_at) for locustfiles/rush.py's log."""
        first_click = time.time()
        while True:
            with self.client.request(
                method,
                f"{API}{path}",
                json=body,
                headers=self.headers,
                name=name,
                catch_response=True,
                context={"first_at": first_click},
            ) as response:
                status = response.status_code
                if status == 429 and error_code(response) == "writes_busy":
                    response.success()
                    retry_after = float(response.headers.get("Retry-After") or 1)
                elif status in answers:
                    response.success()
                    return status
                else:
                    response.failure(f"{status}: {response.text[:200]}")
                    return status
            gevent.sleep(retry_after * random.uniform(1.0, 1.5))

    def get(self, path: str, name: str) -> dict | None:
        with self.client.get(f"{API}{path}", headers=self.headers, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}: {response.text[:200]}")
                return None
            return response.json()


class StudentUser(SignedInUser):
    """Browses a semester's courses (with and without a department), opens courses, checks their
    enrollments and profile; now and then (1 task in 33) enrolls in a course they looked at, and as
    often drops one."""

    weight = 9
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        number = BROWSER_FIRST_STUDENT + next(_browser_numbers) % max(1, STUDENTS - BROWSER_FIRST_STUDENT + 1)
        self.sign_in(f"student{number}@demo.edu")
        self.seen_courses: list[str] = []
        self.enrolled: set[str] = set()
        self.browse_semester()

    def remember(self, page: dict | None) -> None:
        if page:
            self.seen_courses = [course["course_id"] for course in page["results"]][:20] or self.seen_courses

    @task(8)
    def browse_semester(self) -> None:
        self.remember(self.get(f"/courses?semester_id={random.choice(SEMESTER_IDS)}", "GET /courses?semester_id"))

    @task(8)
    def browse_department(self) -> None:
        path = f"/courses?semester_id={random.choice(SEMESTER_IDS)}&department_id={random.randint(1, DEPARTMENTS)}"
        self.remember(self.get(path, "GET /courses?semester_id&department_id"))

    @task(10)
    def course_detail(self) -> None:
        if self.seen_courses:
            self.get(f"/courses/{random.choice(self.seen_courses)}", "GET /courses/{id}")

    @task(4)
    def my_enrollments(self) -> None:
        self.get("/enrollments/me", "GET /enrollments/me")

    @task(1)
    def profile(self) -> None:
        self.get("/auth/me", "GET /auth/me")

    @task(1)
    def enroll(self) -> None:
        if not self.seen_courses:
            return
        course_id = random.choice(self.seen_courses)
        status = self.write(
            "POST", "/enrollments", "POST /enrollments", answers=(200, 201, 409), body={"course_id": course_id}
        )
        if status in (200, 201):
            self.enrolled.add(course_id)

    @task(1)
    def drop(self) -> None:
        if not self.enrolled:
            return
        course_id = self.enrolled.pop()
        self.write("DELETE", f"/enrollments/{course_id}", "DELETE /enrollments/{id}", answers=(204, 404))


class InstructorUser(SignedInUser):
    """Checks their courses and rosters; 1 task in 19 edits a course description (which makes the
    semester's cached list pages stale)."""

    weight = 1
    wait_time = between(1, 3)

    def on_start(self) -> None:
        number = 1 + (next(_instructor_numbers) - 1) % INSTRUCTORS
        self.sign_in(f"instructor{number}@demo.edu")
        self.courses: list[str] = []
        self.my_courses()

    @task(10)
    def my_courses(self) -> None:
        page = self.get(f"/courses?instructor_id={self.user_id}", "GET /courses?instructor_id")
        if page:
            self.courses = [course["course_id"] for course in page["results"]]

    @task(8)
    def roster(self) -> None:
        if self.courses:
            self.get(f"/courses/{random.choice(self.courses)}/enrollments", "GET /courses/{id}/enrollments")

    @task(1)
    def edit(self) -> None:
        if not self.courses:
            return
        with self.client.patch(
            f"{API}/courses/{random.choice(self.courses)}",
            json={"description": f"Syllabus revised ({random.randint(1, 1_000_000)})."},
            headers=self.headers,
            name="PATCH /courses/{id}",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}: {response.text[:200]}")


@events.spawning_complete.add_listener
def _measure_after_warm_up(user_count: int, **_: object) -> None:
    """BENCH_WARMUP seconds after every user has spawned, reset the statistics (the steady state
    starts) and tell benchmarks/locust_runner.py through the BENCH_SPAWNED_MARKER file. Without
    BENCH_WARMUP nothing is reset."""
    if not os.environ.get("BENCH_WARMUP"):  # unset, or empty as make exports an unset variable
        return
    runner = events_environment.runner if events_environment else None

    def reset_later() -> None:
        gevent.sleep(float(os.environ["BENCH_WARMUP"]))
        if runner is not None:
            runner.stats.reset_all()
        marker = os.environ.get("BENCH_SPAWNED_MARKER")
        if marker:
            with open(marker, "w") as file:
                file.write(str(user_count))

    gevent.spawn(reset_later)


events_environment = None


@events.init.add_listener
def _remember_environment(environment: object, **_: object) -> None:
    global events_environment
    events_environment = environment
