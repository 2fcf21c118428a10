"""Enroll and drop latency through the running stack, as students see it.

Run against `make run` (background work on the Celery worker), then against
`CELERY_TASK_ALWAYS_EAGER=true make run` (the same work done inline in the request) to compare:

    .venv/bin/python -m benchmarks.enroll_latency [--students 40] [--courses 10]

Each of students 2..N+1 enrolls in, then drops, the first `--courses` courses of the demo's open
semester that have seats; requests are sequential, one new connection each. Enrolls the registration
rules refuse (409) are not timed. A student's 2 x `--courses` writes come in a row, more than the
default burst of writes (WRITE_THROTTLE_BURST, 15) for 8 courses or more: start the stack with
`WRITE_THROTTLE_BURST=20 make run` (the script stops if a write was throttled).
"""

from __future__ import annotations

import argparse

import orjson

from benchmarks.cache_latency import client_for
from benchmarks.stats import percentile
from demo.calendar import OPEN, demo_semester_ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--courses", type=int, default=10)
    arguments = parser.parse_args()

    browser = client_for(arguments.base_url, "student1@demo.edu")
    _, body, _ = browser.request("GET", f"/api/courses?semester_id={demo_semester_ids(3)[OPEN]}&limit=100")
    courses = [course["course_id"] for course in orjson.loads(body)["results"] if course["seats_available"] > 5]
    courses = courses[: arguments.courses]

    enrolls: list[float] = []
    drops: list[float] = []
    throttled = 0
    for number in range(2, arguments.students + 2):
        student = client_for(arguments.base_url, f"student{number}@demo.edu")
        for course_id in courses:
            status, _, elapsed_ms = student.request("POST", "/api/enrollments", {"course_id": course_id})
            if status == 201:
                enrolls.append(elapsed_ms)
            throttled += status == 429
        for course_id in courses:
            status, _, elapsed_ms = student.request("DELETE", f"/api/enrollments/{course_id}")
            if status == 204:
                drops.append(elapsed_ms)
            throttled += status == 429
    if throttled:
        raise SystemExit(
            f"{throttled} writes were throttled (429): "
            f"start the stack with WRITE_THROTTLE_BURST={2 * len(courses)} or more"
        )
    for name, timings in (("enroll (201)", enrolls), ("drop (204)", drops)):
        print(
            f"{name}: p50 {percentile(timings, 0.5):.2f} ms, p99 {percentile(timings, 0.99):.2f} ms, n={len(timings)}"
        )


if __name__ == "__main__":
    main()
