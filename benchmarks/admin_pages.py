"""How long each admin list page takes, signed in as an admin, through gunicorn.

Run it against the stack `make run` serves, after loading a large catalogue into it:

    .venv/bin/python manage.py seed_demo --courses 10000 --students 5000 --enrollments 20000 --semesters 10
    .venv/bin/python -m benchmarks.admin_pages [--base-url http://127.0.0.1:8000] [--requests 50]

Requests are sequential on one keep-alive session, like one admin clicking; latency is measured at
the client and includes rendering the page.
"""

from __future__ import annotations

import argparse
import os
import re
import time

import requests

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "courseproject.settings.local")
import django

django.setup()

from django.conf import settings  # noqa: E402

from benchmarks.stats import percentile  # noqa: E402
from courses.models import Course  # noqa: E402
from demo.logins import DEMO_PASSWORD  # noqa: E402
from enrollments.models import Enrollment  # noqa: E402


def sign_in(base_url: str, email: str, password: str) -> requests.Session:
    session = requests.Session()
    login_url = f"{base_url}/admin/login/"
    session.get(login_url).raise_for_status()
    response = session.post(
        login_url,
        data={"username": email, "password": password, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        headers={"Referer": login_url},
        allow_redirects=False,
    )
    if response.status_code != 302:
        raise SystemExit(f"Could not sign in as {email}: {response.status_code}")
    return session


def pages(base_url: str) -> dict[str, str]:
    """One page of each list, with ids taken from the loaded data."""
    semester = settings.CURRENT_SEMESTER
    course = next(iter(Course.by_semester.query(semester, limit=1)))
    enrollment = next(iter(Enrollment.by_course.query(course.course_id, limit=1)), None)
    student_id = enrollment.user_id if enrollment else ""
    return {
        "courses of the current semester": f"/admin/courses/course/?semester={semester}",
        "courses of one department": f"/admin/courses/course/?semester={semester}&department={course.department_id}",
        "courses of an instructor": f"/admin/courses/course/?instructor={course.instructor_id}",
        "course by code": f"/admin/courses/course/?q={course.course_code}",
        "course change form": f"/admin/courses/course/{course.course_id}/change/",
        "roster of a course": f"/admin/enrollments/enrollment/?course={course.course_id}",
        "enrollments of a student": f"/admin/enrollments/enrollment/?student={student_id}",
        "students by email": "/admin/accounts/user/?role=student",
        "semesters, newest first": "/admin/semesters/semester/",
        "semester change form": f"/admin/semesters/semester/{semester}/change/",
        "audit log, my actions": "/admin/audit/auditrecord/",
        "index": "/admin/",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", default=f"http://127.0.0.1:{os.environ.get('PORT', '8000')}")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--email", default="admin@demo.edu")
    args = parser.parse_args()

    session = sign_in(args.base_url, args.email, DEMO_PASSWORD)
    print(f"| admin page ({Course.count()} courses) | rows | p50 | p95 | max |")
    print("|---|---|---|---|---|")
    for name, path in pages(args.base_url).items():
        timings = []
        rows = 0
        for _ in range(args.requests):
            started = time.perf_counter()
            response = session.get(args.base_url + path)
            timings.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{path}: {response.status_code}")
            rows = len(re.findall(r"<tr>\s*<td class=\"action-checkbox\"|<tr>\s*<th>", response.text))
        print(
            f"| {name} | {rows} | {percentile(timings, 0.5):.1f} ms | {percentile(timings, 0.95):.1f} ms "
            f"| {max(timings):.1f} ms |"
        )


if __name__ == "__main__":
    main()
