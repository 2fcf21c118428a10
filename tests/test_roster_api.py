"""/api/courses/{course_id}/enrollments: a course's roster, for its instructor and admins."""

from __future__ import annotations

from accounts.models import Role
from enrollments import services as enrollment_services
from tests.conftest import when_cached


class TestRoster:
    def test_the_instructor_sees_enrolled_students_with_names(self, instructor, make_person, make_course):
        course = make_course()
        students = [make_person(Role.STUDENT, name=f"Student {number}") for number in range(3)]
        for person in students:
            enrollment_services.enroll(actor=person.actor, course_id=course.course_id)
        enrollment_services.drop(actor=students[1].actor, user_id=students[1].user_id, course_id=course.course_id)
        response = instructor.client.get(f"/api/courses/{course.course_id}/enrollments")
        assert response.status_code == 200
        roster = response.json()["results"]
        assert [entry["student"]["name"] for entry in roster] == ["Student 0", "Student 2"]
        assert all(entry["status"] == "enrolled" for entry in roster)

    def test_the_roster_pages_and_reads_students_in_one_batch(self, admin, make_person, make_course, dynamodb_calls):
        course = make_course()
        for _ in range(5):
            enrollment_services.enroll(actor=make_person(Role.STUDENT).actor, course_id=course.course_id)
        dynamodb_calls.clear()
        first = admin.client.get(f"/api/courses/{course.course_id}/enrollments", {"limit": 3}).json()
        # Cached: the course and the students were written through, only the page is read. Without the
        # cache, the token check reads the user too, before the answer leaves.
        assert dynamodb_calls.operations == when_cached(["Query"], ["GetItem", "Query", "BatchGetItem", "GetItem"])
        second = admin.client.get(
            f"/api/courses/{course.course_id}/enrollments", {"limit": 3, "cursor": first["next_cursor"]}
        ).json()
        assert len(first["results"]) == 3
        assert len(second["results"]) == 2
        assert second["next_cursor"] is None

    def test_other_instructors_and_students_cannot_see_it(self, make_person, student, make_course):
        course = make_course()
        other = make_person(Role.INSTRUCTOR)
        assert other.client.get(f"/api/courses/{course.course_id}/enrollments").status_code == 403
        assert student.client.get(f"/api/courses/{course.course_id}/enrollments").status_code == 403

    def test_the_roster_of_an_unknown_course_is_404(self, admin):
        assert admin.client.get("/api/courses/unknown/enrollments").status_code == 404
