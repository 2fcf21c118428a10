"""/api/courses: lists by GSI with cursors, detail, create, patch, delete (the roster: test_roster_api.py)."""

from __future__ import annotations

import pytest

from accounts.models import Role
from courses.models import Course
from enrollments import services as enrollment_services
from tests.conftest import unique_semester, when_cached

VALID_COURSE = {
    "course_code": "cs 101",
    "title": "Introduction to Programming",
    "description": "Variables, loops and functions.\nWith labs.",
    "department_id": 4,
    "credits": 3,
    "capacity": 40,
}


def course_body(**overrides: object) -> dict:
    return {**VALID_COURSE, "semester_id": unique_semester(), **overrides}


class TestCreate:
    def test_an_instructor_creates_their_own_course(self, instructor):
        response = instructor.client.post("/api/courses", course_body(), format="json")
        assert response.status_code == 201
        body = response.json()
        assert body["instructor_id"] == instructor.user_id
        assert body["course_code"] == "CS 101"
        assert body["enrolled_count"] == 0
        assert body["seats_available"] == 40
        assert instructor.client.get(f"/api/courses/{body['course_id']}").json() == body

    def test_an_instructor_cannot_create_a_course_for_someone_else(self, instructor, make_person):
        other = make_person(Role.INSTRUCTOR)
        response = instructor.client.post("/api/courses", course_body(instructor_id=other.user_id), format="json")
        assert response.status_code == 403

    def test_students_cannot_create_courses(self, student):
        response = student.client.post("/api/courses", course_body(), format="json")
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"

    def test_an_admin_creates_a_course_for_an_instructor(self, admin, instructor):
        response = admin.client.post("/api/courses", course_body(instructor_id=instructor.user_id), format="json")
        assert response.status_code == 201
        assert response.json()["instructor_id"] == instructor.user_id

    def test_an_admin_must_name_an_existing_instructor(self, admin, student):
        assert admin.client.post("/api/courses", course_body(), format="json").json() == {
            "instructor_id": ["An admin must name the course's instructor."]
        }
        response = admin.client.post("/api/courses", course_body(instructor_id=student.user_id), format="json")
        assert response.status_code == 400
        assert "instructor_id" in response.json()

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"course_code": ""}, "course_code"),
            ({"course_code": "C"}, "course_code"),
            ({"course_code": "CS_101!"}, "course_code"),
            ({"course_code": "X" * 21}, "course_code"),
            ({"title": ""}, "title"),
            ({"title": "t" * 201}, "title"),
            ({"title": None}, "title"),
            ({"title": "tab\there"}, "title"),
            ({"description": "d" * 5001}, "description"),
            ({"semester_id": 0}, "semester_id"),
            ({"semester_id": "spring"}, "semester_id"),
            ({"semester_id": 10**30}, "semester_id"),
            ({"department_id": -1}, "department_id"),
            ({"department_id": 1.5}, "department_id"),
            ({"credits": 31}, "credits"),
            ({"credits": True}, "credits"),
            ({"capacity": 0}, "capacity"),
            ({"capacity": 10_001}, "capacity"),
            ({"capacity": [40]}, "capacity"),
        ],
    )
    def test_bad_course_input_is_a_field_error(self, instructor, overrides, field):
        response = instructor.client.post("/api/courses", course_body(**overrides), format="json")
        assert response.status_code == 400
        assert field in response.json()


class TestList:
    def test_a_semester_lists_page_by_page_without_gaps_or_repeats(self, student, make_course):
        semester = unique_semester()
        created = {
            make_course(semester_id=semester, department_id=department).course_id for department in (1, 1, 2, 3, 3)
        }
        seen: list[str] = []
        cursor = None
        pages = 0
        while True:
            params = {"semester_id": semester, "limit": 2, **({"cursor": cursor} if cursor else {})}
            body = student.client.get("/api/courses", params).json()
            seen += [course["course_id"] for course in body["results"]]
            pages += 1
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert sorted(seen) == sorted(created)
        assert pages == 3

    def test_the_last_page_has_no_cursor(self, student, make_course):
        semester = unique_semester()
        make_course(semester_id=semester)
        make_course(semester_id=semester)
        body = student.client.get("/api/courses", {"semester_id": semester, "limit": 2}).json()
        assert len(body["results"]) == 2
        assert body["next_cursor"] is None

    def test_a_department_filter_narrows_the_semester(self, student, make_course):
        semester = unique_semester()
        wanted = make_course(semester_id=semester, department_id=7)
        make_course(semester_id=semester, department_id=8)
        body = student.client.get("/api/courses", {"semester_id": semester, "department_id": 7}).json()
        assert [course["course_id"] for course in body["results"]] == [wanted.course_id]

    def test_an_instructors_courses_are_ordered_by_code(self, student, instructor, make_course):
        make_course(course_code="MATH 300")
        make_course(course_code="BIO 100")
        body = student.client.get("/api/courses", {"instructor_id": instructor.user_id}).json()
        assert [course["course_code"] for course in body["results"]] == ["BIO 100", "MATH 300"]

    def test_a_list_reads_with_one_query(self, student, make_course, dynamodb_calls):
        semester = unique_semester()
        for _ in range(3):
            make_course(semester_id=semester)
        dynamodb_calls.clear()
        assert student.client.get("/api/courses", {"semester_id": semester}).status_code == 200
        # Without the cache, the token check reads the user too, before the answer leaves.
        assert dynamodb_calls.operations == when_cached(["Query"], ["Query", "GetItem"])

    @pytest.mark.parametrize("params", [{}, {"department_id": 3}, {"limit": 5}, {"semester_id": ""}])
    def test_a_list_without_an_indexed_filter_is_refused(self, student, params):
        response = student.client.get("/api/courses", params)
        assert response.status_code == 400
        body = response.json()
        assert body.get("code") == "filter_required" or "semester_id" in body

    @pytest.mark.parametrize(
        "params",
        [
            {"semester_id": "abc"},
            {"semester_id": -5},
            {"semester_id": 20261, "limit": 0},
            {"semester_id": 20261, "limit": 101},
            {"semester_id": 20261, "limit": "ten"},
            {"semester_id": 20261, "department_id": "x"},
            {"instructor_id": "i" * 65},
        ],
    )
    def test_bad_query_parameters_are_field_errors(self, student, params):
        response = student.client.get("/api/courses", params)
        assert response.status_code == 400
        assert set(response.json()) & {"semester_id", "limit", "department_id", "instructor_id"}

    @pytest.mark.parametrize(
        "cursor", ["garbage", "e30", ".eJyrVkrOLy0qTo3PTFGyqlYKVrJSSk5LsjAxME01NTYzM01M:x:y", "%00"]
    )
    def test_a_forged_cursor_is_refused(self, student, cursor):
        response = student.client.get("/api/courses", {"semester_id": 20261, "cursor": cursor})
        assert response.status_code == 400
        assert "cursor" in response.json()

    def test_a_cursor_only_works_for_the_list_it_came_from(self, student, make_course):
        semester = unique_semester()
        for _ in range(3):
            make_course(semester_id=semester)
        cursor = student.client.get("/api/courses", {"semester_id": semester, "limit": 1}).json()["next_cursor"]
        assert cursor
        response = student.client.get("/api/courses", {"semester_id": semester + 1, "cursor": cursor})
        assert response.status_code == 400
        assert "cursor" in response.json()

    def test_lists_need_a_token(self, anonymous):
        assert anonymous.get("/api/courses", {"semester_id": 20261}).status_code == 401


class TestDetail:
    def test_an_unknown_course_is_404(self, student):
        response = student.client.get("/api/courses/0123456789abcdef")
        assert response.status_code == 404
        assert response.json() == {"detail": "Course not found.", "code": "course_not_found"}

    @pytest.mark.parametrize("course_id", ["a" * 65, "bad%20id", "..%2F..", "id;drop"])
    def test_an_impossible_course_id_is_404(self, student, course_id):
        response = student.client.get(f"/api/courses/{course_id}")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


class TestUpdate:
    def test_the_instructor_changes_title_and_capacity(self, instructor, make_course):
        course = make_course()
        response = instructor.client.patch(
            f"/api/courses/{course.course_id}", {"title": "New Title", "capacity": 12}, format="json"
        )
        assert response.status_code == 200
        body = response.json()
        assert (body["title"], body["capacity"], body["seats_available"]) == ("New Title", 12, 12)
        assert body["updated_at"] > body["created_at"]

    def test_another_instructor_cannot_change_it(self, make_person, make_course):
        course = make_course()
        other = make_person(Role.INSTRUCTOR)
        response = other.client.patch(f"/api/courses/{course.course_id}", {"title": "Mine"}, format="json")
        assert response.status_code == 403

    def test_a_student_cannot_change_it(self, student, make_course):
        course = make_course()
        assert (
            student.client.patch(f"/api/courses/{course.course_id}", {"title": "X"}, format="json").status_code == 403
        )

    def test_an_admin_can_change_and_reassign_it(self, admin, make_person, make_course):
        course = make_course()
        other = make_person(Role.INSTRUCTOR)
        response = admin.client.patch(
            f"/api/courses/{course.course_id}", {"instructor_id": other.user_id}, format="json"
        )
        assert response.status_code == 200
        assert response.json()["instructor_id"] == other.user_id

    def test_an_instructor_cannot_give_the_course_away(self, instructor, make_person, make_course):
        course = make_course()
        other = make_person(Role.INSTRUCTOR)
        response = instructor.client.patch(
            f"/api/courses/{course.course_id}", {"instructor_id": other.user_id}, format="json"
        )
        assert response.status_code == 403

    def test_capacity_cannot_drop_below_the_enrolled_students(self, instructor, make_person, make_course):
        course = make_course(capacity=5)
        for _ in range(3):
            enrollment_services.enroll(actor=make_person(Role.STUDENT).actor, course_id=course.course_id)
        response = instructor.client.patch(f"/api/courses/{course.course_id}", {"capacity": 2}, format="json")
        assert response.status_code == 409
        assert response.json()["code"] == "capacity_below_enrolled"
        assert (
            instructor.client.patch(f"/api/courses/{course.course_id}", {"capacity": 3}, format="json").status_code
            == 200
        )

    def test_a_course_cannot_move_semester(self, instructor, make_course):
        course = make_course()
        response = instructor.client.patch(f"/api/courses/{course.course_id}", {"semester_id": 20261}, format="json")
        assert response.status_code == 400
        assert "semester_id" in response.json()

    def test_an_empty_patch_is_refused(self, instructor, make_course):
        course = make_course()
        assert instructor.client.patch(f"/api/courses/{course.course_id}", {}, format="json").status_code == 400

    def test_patching_an_unknown_course_is_404(self, admin):
        assert admin.client.patch("/api/courses/nope", {"title": "X"}, format="json").status_code == 404

    def test_put_is_not_allowed(self, instructor, make_course):
        course = make_course()
        response = instructor.client.put(f"/api/courses/{course.course_id}", VALID_COURSE, format="json")
        assert response.status_code == 405
        assert response.json()["code"] == "method_not_allowed"


class TestDelete:
    def test_the_instructor_deletes_an_empty_course(self, instructor, make_course):
        course = make_course()
        assert instructor.client.delete(f"/api/courses/{course.course_id}").status_code == 204
        assert instructor.client.get(f"/api/courses/{course.course_id}").status_code == 404
        assert instructor.client.delete(f"/api/courses/{course.course_id}").status_code == 404

    def test_a_course_with_students_cannot_be_deleted(self, admin, student, make_course):
        course = make_course()
        enrollment_services.enroll(actor=student.actor, course_id=course.course_id)
        response = admin.client.delete(f"/api/courses/{course.course_id}")
        assert response.status_code == 409
        assert response.json()["code"] == "course_has_enrollments"
        assert Course.get(course.course_id).enrolled_count == 1

    def test_a_student_cannot_delete_it(self, student, make_course):
        course = make_course()
        assert student.client.delete(f"/api/courses/{course.course_id}").status_code == 403
