"""Enrollments in the admin: rosters, a student's enrollments, and dropping through the drop service."""

from __future__ import annotations

import pytest

from audit.models import AuditRecord
from courses.models import Course
from enrollments import services as enrollment_services
from tests.admin.helpers import ENROLLMENTS, messages_of, text


class TestEnrollments:
    def test_lists_a_course_roster_and_a_students_enrollments(self, admin_client, make_course, student):
        course = make_course(title="Rostered")
        enrollment_services.enroll(actor=student.actor, course_id=course.course_id)
        roster = admin_client.get(ENROLLMENTS, {"course": course.course_id})
        assert student.user.email in text(roster)
        mine = admin_client.get(ENROLLMENTS, {"student": student.user.email})
        assert "Rostered" in text(mine)
        assert "enrolled" in text(mine)

    def test_asks_for_a_filter(self, admin_client):
        response = admin_client.get(ENROLLMENTS)
        assert response.status_code == 200
        assert "Choose a course" in text(response)

    def test_drops_a_student_through_the_drop_service(self, admin_client, make_course, student, admin):
        course = make_course(capacity=2)
        enrollment_services.enroll(actor=student.actor, course_id=course.course_id)
        drop_url = f"{ENROLLMENTS}drop/?user={student.user_id}&course={course.course_id}"
        confirm = admin_client.get(drop_url)
        assert f"Drop {student.user.name}" in text(confirm)
        response = admin_client.post(drop_url, {"post": "yes"}, follow=True)
        assert any("was dropped from" in message for message in messages_of(response))
        assert student.client.get(f"/api/courses/{course.course_id}").json()["enrolled_count"] == 0
        enrollments = student.client.get("/api/enrollments/me").json()["results"]
        assert [entry["status"] for entry in enrollments] == ["dropped"]
        audit = list(AuditRecord.by_actor.query(admin.user_id, scan_index_forward=False))
        assert (audit[0].action, audit[0].entity_type, audit[0].before["status"]) == (
            "dropped",
            "enrollment",
            "enrolled",
        )

    @pytest.mark.parametrize(
        "query", [{"user": "a" * 3000, "course": "x"}, {"user": "", "course": ""}, {"user": "a b", "course": "c/d"}]
    )
    def test_drop_links_with_impossible_ids_are_explained(self, admin_client, query, dynamodb_calls):
        response = admin_client.get(f"{ENROLLMENTS}drop/", query, follow=True)
        assert "That enrollment does not exist." in messages_of(response)

    def test_dropping_twice_is_explained(self, admin_client, make_course, student):
        course = make_course()
        enrollment_services.enroll(actor=student.actor, course_id=course.course_id)
        drop_url = f"{ENROLLMENTS}drop/?user={student.user_id}&course={course.course_id}"
        admin_client.post(drop_url, {"post": "yes"})
        response = admin_client.post(drop_url, {"post": "yes"}, follow=True)
        assert any("no enrollment in this course" in message for message in messages_of(response))
        assert Course.get(course.course_id).enrolled_count == 0

    @pytest.mark.parametrize(
        "query",
        [
            {"course": "0" * 32},
            {"student": "nobody@example.edu"},
            {"course": "x", "status": "paused"},
            {"student": "é" * 900},
        ],
    )
    def test_bad_filters_are_explained(self, admin_client, query):
        response = admin_client.get(ENROLLMENTS, query)
        assert response.status_code == 200
        assert messages_of(response)
