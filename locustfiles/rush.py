"""Registration opens: BENCH_RUSH_USERS students (default 300) enroll into the popular courses
(BENCH_RUSH_COURSES, comma-separated ids) while StudentUsers (everyone else) keep browsing.

    .venv/bin/locust -f locustfiles/rush.py --host http://127.0.0.1:8000 --headless -u 500 -r 20 -t 75s

The enrollers are students 1..BENCH_RUSH_USERS; set BENCH_BROWSER_FIRST_STUDENT above that so the
browsers are other students. BENCH_RUSH_ATTEMPTS (default 5): popular courses each enroller tries.
"""

from __future__ import annotations

import itertools
import os
import random

from locust import task

# locust imports a locustfile as a top-level module with its directory on sys.path.
from registration import API, STUDENTS, SignedInUser, StudentUser

__all__ = ["RushStudent", "StudentUser"]

RUSH_COURSES = [course for course in os.environ.get("BENCH_RUSH_COURSES", "").split(",") if course]
RUSH_ATTEMPTS = int(os.environ.get("BENCH_RUSH_ATTEMPTS", "5"))
_rusher_numbers = itertools.count(1)


class RushStudent(SignedInUser):
    """Registration opens: signs in, enrolls into a few of the popular courses as fast as it can,
    then checks its enrollments and stops. A full course (409) is an expected answer."""

    # Spawned first and in this number; the other users are StudentUsers (browsers).
    fixed_count = int(os.environ.get("BENCH_RUSH_USERS", "300"))
    done = False

    def wait_time(self) -> float:
        # Quick while enrolling; then like a student watching the page.
        return random.uniform(5, 10) if self.done else random.uniform(0.1, 0.5)

    def on_start(self) -> None:
        number = next(_rusher_numbers)
        self.sign_in(f"student{1 + (number - 1) % STUDENTS}@demo.edu")
        self.targets = random.sample(RUSH_COURSES, min(RUSH_ATTEMPTS, len(RUSH_COURSES)))

    @task
    def enroll_next(self) -> None:
        if not self.targets:
            self.done = True
            self.get("/enrollments/me", "GET /enrollments/me (rush)")
            return
        course_id = self.targets.pop()
        with self.client.post(
            f"{API}/enrollments",
            json={"course_id": course_id},
            headers=self.headers,
            name="POST /enrollments (rush)",
            catch_response=True,
        ) as response:
            if response.status_code == 409:
                response.success()
            elif response.status_code not in (200, 201):
                response.failure(f"{response.status_code}: {response.text[:200]}")
