"""Registration opens: BENCH_RUSH_USERS students (default 300) wait for the opening of the rush
semester's registration and enroll into the popular courses (BENCH_RUSH_COURSES, comma-separated
ids) at that instant, while StudentUsers (everyone else) keep browsing.

    .venv/bin/locust -f locustfiles/rush.py --host http://127.0.0.1:8000 --headless -u 500 -r 20 -t 75s

Each enroller signs in, reads the semester (BENCH_RUSH_SEMESTER) and sleeps until its
`registration_opens_at`; an admin sets that to a few seconds after the last user will have spawned
(benchmarks/scenarios.py does). The enrollers are students 1..BENCH_RUSH_USERS; set
BENCH_BROWSER_FIRST_STUDENT above that so the browsers are other students. BENCH_RUSH_ATTEMPTS
(default 5): popular courses each enroller tries; BENCH_RUSH_WAITLIST_SHARE (0.5): the share of
enrollers who join a full course's waitlist (`waitlist: true`); BENCH_RUSH_DROP_SHARE (0.1): the
share of seats won that are dropped again, at a random moment of the next BENCH_RUSH_DROP_WITHIN
seconds (30), so freed seats go to the waitlists during the run.

With BENCH_RUSH_LOG set, every request is also written to BENCH_RUSH_LOG.<pid>.jsonl (start time,
name, milliseconds, status, error code), so the runner can tell the first seconds after the opening
from the rest.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
from datetime import datetime
from typing import Any

import gevent
from locust import events, task

# locust imports a locustfile as a top-level module with its directory on sys.path.
from registration import STUDENTS, SignedInUser, StudentUser, error_code

__all__ = ["RushStudent", "StudentUser"]

RUSH_COURSES = [course for course in os.environ.get("BENCH_RUSH_COURSES", "").split(",") if course]
RUSH_ATTEMPTS = int(os.environ.get("BENCH_RUSH_ATTEMPTS", "5"))
RUSH_SEMESTER = os.environ.get("BENCH_RUSH_SEMESTER", "")
RUSH_LOG = os.environ.get("BENCH_RUSH_LOG", "")
RUSH_WAITLIST_SHARE = float(os.environ.get("BENCH_RUSH_WAITLIST_SHARE", "0.5"))
RUSH_DROP_SHARE = float(os.environ.get("BENCH_RUSH_DROP_SHARE", "0.1"))
RUSH_DROP_WITHIN = float(os.environ.get("BENCH_RUSH_DROP_WITHIN", "30"))
_rusher_numbers = itertools.count(1)


class RushStudent(SignedInUser):
    """Registration opens: signs in, waits for the opening, enrolls into a few of the popular courses
    as fast as it can (or joins their waitlists), checks its enrollments, and drops some of the seats
    it won. A refusal (409: the course is full, or a registration rule) is an expected answer."""

    # Spawned first and in this number; the other users are StudentUsers (browsers).
    fixed_count = int(os.environ.get("BENCH_RUSH_USERS", "300"))
    done = False
    drops: list[tuple[float, str]] = []

    def wait_time(self) -> float:
        # Quick while enrolling; then like a student watching the page.
        return random.uniform(5, 10) if self.done else random.uniform(0.1, 0.5)

    def on_start(self) -> None:
        number = next(_rusher_numbers)
        self.sign_in(f"student{1 + (number - 1) % STUDENTS}@demo.edu")
        self.targets = random.sample(RUSH_COURSES, min(RUSH_ATTEMPTS, len(RUSH_COURSES)))
        self.joins_waitlists = random.random() < RUSH_WAITLIST_SHARE
        if RUSH_SEMESTER:
            semester = self.get(f"/semesters/{RUSH_SEMESTER}", "GET /semesters/{id} (rush)")
            if semester:
                opens_at = datetime.fromisoformat(semester["registration_opens_at"].replace("Z", "+00:00"))
                # Like a student with the page open at the opening minute: the first click at the instant
                # (a timer may wake a hair early; the server must not see the click before it).
                while time.time() < opens_at.timestamp():
                    gevent.sleep(opens_at.timestamp() - time.time())

    @task
    def enroll_next(self) -> None:
        if self.targets:
            self.enroll(self.targets.pop())
        elif not self.done:
            self.done = True
            self.plan_drops()
        elif self.drops and time.time() >= self.drops[0][0]:
            self.drop(self.drops.pop(0)[1])

    def enroll(self, course_id: str) -> None:
        # Like a student who, finding the course full, joins its waitlist (BENCH_RUSH_WAITLIST_SHARE of them).
        self.write(
            "POST",
            "/enrollments",
            "POST /enrollments (rush)",
            answers=(200, 201, 409),
            body={"course_id": course_id, "waitlist": self.joins_waitlists},
        )

    def plan_drops(self) -> None:
        """Each seat won is dropped with probability BENCH_RUSH_DROP_SHARE, at a random moment of the
        next BENCH_RUSH_DROP_WITHIN seconds: freed seats go to the waitlists during the run."""
        mine = self.get("/enrollments/me", "GET /enrollments/me (rush)") or {"results": []}
        won = [entry["course_id"] for entry in mine["results"] if entry["status"] == "enrolled"]
        self.drops = sorted(
            (time.time() + random.uniform(1, RUSH_DROP_WITHIN), course_id)
            for course_id in won
            if course_id in RUSH_COURSES and random.random() < RUSH_DROP_SHARE
        )

    def drop(self, course_id: str) -> None:
        self.write("DELETE", f"/enrollments/{course_id}", "DELETE /enrollments/{id} (rush)", answers=(204, 404))


_log_lines: list[str] = []


@events.request.add_listener
def _remember_request(
    *,
    request_type: str,
    name: str,
    response_time: float,
    response: Any = None,
    start_time: float | None = None,
    context: dict | None = None,
    **_: Any,
) -> None:
    if not RUSH_LOG:
        return
    status = getattr(response, "status_code", 0) or 0
    code = error_code(response) if status in (409, 429) else None
    started = start_time if start_time is not None else time.time() - response_time / 1000
    record = {"at": started, "name": f"{request_type} {name}", "ms": response_time, "status": status, "code": code}
    if context and "first_at" in context:
        record["first_at"] = context["first_at"]  # a write's first attempt: its time to an answer, retries included
    _log_lines.append(json.dumps(record))


@events.quitting.add_listener
def _write_request_log(**_: Any) -> None:
    if RUSH_LOG and _log_lines:
        with open(f"{RUSH_LOG}.{os.getpid()}.jsonl", "a") as file:
            file.write("\n".join(_log_lines) + "\n")
