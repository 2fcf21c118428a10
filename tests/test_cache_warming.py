"""Cache warming: `warm_cache` on demand and beat's warming of the semesters being browsed."""

from __future__ import annotations

import io
import time

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django_redis import get_redis_connection

from courseproject.caching import keys
from courses.tasks import warm_hot_semesters
from tests.conftest import unique_semester


class TestCacheWarming:
    pytestmark = pytest.mark.skipif(not settings.CACHE_ENABLED, reason="there is no cache to warm")

    def test_warm_cache_makes_the_next_reads_hits(self, student, make_course, dynamodb_calls):
        semester = unique_semester()
        courses = [make_course(semester_id=semester, department_id=department) for department in (1, 2, 2)]
        get_redis_connection("default").delete(*[keys.course_detail(course.course_id).name for course in courses])
        output = io.StringIO()
        call_command("warm_cache", "--semester", str(semester), "--no-progress", stdout=output)
        assert "Warmed 9 keys (3 list pages, 6 course entries)" in output.getvalue()
        time.sleep(2.1)  # pages warmed within 2 s of a write live only 2 s; warm again once settled
        call_command("warm_cache", "--semester", str(semester), "--no-progress", stdout=io.StringIO())
        dynamodb_calls.clear()
        assert len(student.client.get("/api/courses", {"semester_id": semester}).json()["results"]) == 3
        assert student.client.get("/api/courses", {"semester_id": semester, "department_id": 2}).status_code == 200
        assert student.client.get(f"/api/courses/{courses[0].course_id}").status_code == 200
        assert dynamodb_calls.operations == []

    def test_the_periodic_task_warms_the_semesters_being_browsed(self, student, make_course):
        semester = unique_semester()
        make_course(semester_id=semester)
        student.client.get("/api/courses", {"semester_id": semester})
        page_key = keys.course_list(semester_id=semester, department_id=None, limit=20, cursor=None).name
        get_redis_connection("default").delete(page_key)
        assert warm_hot_semesters.run() > 0
        assert get_redis_connection("default").exists(page_key)

    def test_warm_cache_needs_a_semester_to_warm(self, settings):
        settings.CACHE_WARM_SEMESTERS = []
        get_redis_connection("default").delete(keys.hot_semesters())
        with pytest.raises(CommandError, match="--semester"):
            call_command("warm_cache", "--no-progress")
