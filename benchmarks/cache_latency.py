"""Hit and miss latency of every cached endpoint, and the hit rate of a mixed read/write run.

Run it against the stack `make run` serves (same machine, demo data loaded):

    .venv/bin/python -m benchmarks.cache_latency [--base-url http://127.0.0.1:8000] [--requests 400]

A miss is forced by deleting that one key before the request (the page or entity; seats and the
entities a page embeds stay cached, as after a write elsewhere). Requests are sequential, one new
connection each, as gunicorn's sync workers serve them. Latency is measured at the client.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode, urlparse

import orjson

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "courseproject.settings.local")
import django

django.setup()

from django_redis import get_redis_connection  # noqa: E402

from accounts.models import Role  # noqa: E402
from accounts.selectors import user_by_email  # noqa: E402
from accounts.tokens import issue_token  # noqa: E402
from benchmarks.stats import percentile  # noqa: E402
from courseproject.caching import keys  # noqa: E402
from demo.calendar import demo_semester_ids  # noqa: E402

# make run's semesters, which follow the calendar: the closed one, the open one, the later one.
DEMO_SEMESTERS = demo_semester_ids(3)
CLOSED_SEMESTER, OPEN_SEMESTER = DEMO_SEMESTERS[0], DEMO_SEMESTERS[1]


@dataclass
class Client:
    host: str
    port: int
    token: str

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, bytes, float]:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=10)
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        started = time.perf_counter()
        connection.request(method, path, orjson.dumps(body) if body is not None else None, headers)
        response = connection.getresponse()
        content = response.read()
        elapsed_ms = (time.perf_counter() - started) * 1000
        connection.close()
        return response.status, content, elapsed_ms


def client_for(base_url: str, email: str) -> Client:
    user = user_by_email(email=email)
    if user is None:
        raise SystemExit(f"{email} does not exist: run this against `make run` (demo data).")
    parsed = urlparse(base_url)
    token = issue_token(
        user_id=user.user_id,
        role=user.role,
        token_type="access",
        token_version=int(user.token_version),
        sign_in_id="cache-latency",
    )
    return Client(parsed.hostname or "127.0.0.1", parsed.port or 80, token)


def measure(client: Client, path: str, forget: Callable[[], None] | None, count: int) -> list[float]:
    timings = []
    for _ in range(count):
        if forget is not None:
            forget()
        status, _, elapsed_ms = client.request("GET", path)
        if status != 200:
            raise SystemExit(f"GET {path} answered {status}")
        timings.append(elapsed_ms)
    return timings


def endpoints(student: Client, instructor: Client, student_id: str, instructor_id: str) -> list[tuple]:
    redis = get_redis_connection("default")
    first_page = {"limit": 20, "cursor": None}
    _, body, _ = student.request("GET", f"/api/courses?semester_id={CLOSED_SEMESTER}&limit=1")
    course_id = orjson.loads(body)["results"][0]["course_id"]
    _status, body, _ = instructor.request("GET", f"/api/courses?instructor_id={instructor_id}&limit=1")
    taught_course_id = orjson.loads(body)["results"][0]["course_id"]

    def forget(key: keys.CacheKey) -> Callable[[], None]:
        return lambda: redis.delete(key.name)

    return [
        (
            "GET /api/courses?semester_id",
            student,
            "/api/courses?" + urlencode({"semester_id": CLOSED_SEMESTER}),
            forget(keys.course_list(semester_id=CLOSED_SEMESTER, department_id=None, **first_page)),
        ),
        (
            "GET /api/courses?semester_id&department_id",
            student,
            "/api/courses?" + urlencode({"semester_id": CLOSED_SEMESTER, "department_id": 3}),
            forget(keys.course_list(semester_id=CLOSED_SEMESTER, department_id=3, **first_page)),
        ),
        (
            "GET /api/courses?instructor_id",
            student,
            f"/api/courses?instructor_id={instructor_id}",
            forget(keys.instructor_courses(instructor_id=instructor_id, **first_page)),
        ),
        ("GET /api/courses/{id}", student, f"/api/courses/{course_id}", forget(keys.course_detail(course_id))),
        (
            "GET /api/enrollments/me",
            student,
            "/api/enrollments/me",
            forget(keys.my_enrollments(user_id=student_id, semester_id=None, status=None, **first_page)),
        ),
        ("GET /api/auth/me", student, "/api/auth/me", forget(keys.user_profile(student_id))),
        (
            "GET /api/courses/{id}/enrollments",
            instructor,
            f"/api/courses/{taught_course_id}/enrollments",
            forget(keys.roster(course_id=taught_course_id, **first_page)),
        ),
    ]


def mixed_run(base_url: str, seconds: float, threads: int) -> dict[str, float]:
    """Students browse, check their enrollments and sometimes enroll or drop, for `seconds`."""
    students = [client_for(base_url, f"student{number}@demo.edu") for number in range(1, 41)]
    _, body, _ = students[0].request("GET", f"/api/courses?semester_id={OPEN_SEMESTER}&limit=100")
    course_ids = [course["course_id"] for course in orjson.loads(body)["results"]]
    deadline = time.monotonic() + seconds
    counts = {"reads": 0, "writes": 0}
    lock = threading.Lock()

    def work(seed: int) -> None:
        rng = random.Random(seed)
        while time.monotonic() < deadline:
            client = rng.choice(students)
            roll = rng.random()
            if roll < 0.05:
                client.request("POST", "/api/enrollments", {"course_id": rng.choice(course_ids)})
                kind = "writes"
            elif roll < 0.08:
                client.request("DELETE", f"/api/enrollments/{rng.choice(course_ids)}")
                kind = "writes"
            else:
                path = rng.choice(
                    [
                        f"/api/courses?semester_id={rng.choice(DEMO_SEMESTERS)}",
                        f"/api/courses?semester_id={OPEN_SEMESTER}&department_id={rng.randint(1, 20)}",
                        f"/api/courses/{rng.choice(course_ids)}",
                        "/api/enrollments/me",
                        "/api/auth/me",
                    ]
                )
                client.request("GET", path)
                kind = "reads"
            with lock:
                counts[kind] += 1

    workers = [threading.Thread(target=work, args=(seed,)) for seed in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return counts


def cache_lookups(client: Client) -> tuple[int, int]:
    _, body, _ = client.request("GET", "/metrics")
    hits = misses = 0
    for line in body.decode().splitlines():
        if line.startswith("course_cache_lookups_total"):
            value = int(line.rsplit(" ", 1)[1])
            if 'outcome="hit"' in line:
                hits += value
            else:
                misses += value
    return hits, misses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--requests", type=int, default=400, help="Requests per endpoint and outcome.")
    parser.add_argument("--mixed-seconds", type=float, default=30.0)
    parser.add_argument("--mixed-threads", type=int, default=8)
    arguments = parser.parse_args()

    student_user = user_by_email(email="student1@demo.edu")
    instructor_user = user_by_email(email="instructor1@demo.edu")
    assert student_user and instructor_user and instructor_user.role == Role.INSTRUCTOR
    student = client_for(arguments.base_url, student_user.email)
    instructor = client_for(arguments.base_url, instructor_user.email)

    print(f"| endpoint | hit p50 | hit p99 | miss p50 | miss p99 |  ({arguments.requests} requests each)")
    print("|---|---|---|---|---|")
    for name, client, path, forget in endpoints(student, instructor, student_user.user_id, instructor_user.user_id):
        measure(client, path, None, 20)  # warm the worker processes
        hits = measure(client, path, None, arguments.requests)
        misses = measure(client, path, forget, arguments.requests)
        print(
            f"| {name} | {percentile(hits, 0.5):.2f} ms | {percentile(hits, 0.99):.2f} ms "
            f"| {percentile(misses, 0.5):.2f} ms | {percentile(misses, 0.99):.2f} ms |"
        )

    hits_before, misses_before = cache_lookups(student)
    counts = mixed_run(arguments.base_url, arguments.mixed_seconds, arguments.mixed_threads)
    time.sleep(1.5)  # every worker flushes its counters once a second
    hits_after, misses_after = cache_lookups(student)
    hits, misses = hits_after - hits_before, misses_after - misses_before
    print(
        f"\nMixed run: {counts['reads']} reads and {counts['writes']} writes in {arguments.mixed_seconds:.0f} s "
        f"with {arguments.mixed_threads} threads; cache lookups {hits + misses}, hit rate {hits / (hits + misses):.1%}"
    )


if __name__ == "__main__":
    main()
