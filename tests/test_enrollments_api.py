"""/api/enrollments: enroll and drop as transactions, never oversold; my enrollments with courses."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from accounts.models import Role
from courses.models import Course
from enrollments import services as enrollment_services
from enrollments.models import Enrollment
from tests.conftest import authenticated_client, unique_semester, when_cached


def enroll(person, course_id: str):
    return person.client.post("/api/enrollments", {"course_id": course_id}, format="json")


def roster_size(course_id: str) -> int:
    return sum(1 for enrollment in Enrollment.by_course.query(course_id) if enrollment.status == "enrolled")


class TestEnroll:
    def test_enrolling_creates_the_record_and_takes_a_seat(self, student, make_course):
        course = make_course(capacity=2)
        response = enroll(student, course.course_id)
        assert response.status_code == 201
        body = response.json()
        assert body["enrollment_id"] == f"{student.user_id}#{course.course_id}"
        assert (body["status"], body["semester_id"], body["dropped_at"]) == ("enrolled", course.semester_id, None)
        detail = student.client.get(f"/api/courses/{course.course_id}").json()
        assert (detail["enrolled_count"], detail["seats_available"]) == (1, 1)

    def test_enrolling_again_is_a_200_and_takes_no_second_seat(self, student, make_course):
        course = make_course()
        first = enroll(student, course.course_id)
        again = enroll(student, course.course_id)
        assert again.status_code == 200
        assert again.json()["enrollment_id"] == first.json()["enrollment_id"]
        assert Course.get(course.course_id).enrolled_count == 1

    def test_a_full_course_refuses_the_next_student(self, make_person, make_course):
        course = make_course(capacity=1)
        assert enroll(make_person(Role.STUDENT), course.course_id).status_code == 201
        response = enroll(make_person(Role.STUDENT), course.course_id)
        assert response.status_code == 409
        assert response.json() == {
            "detail": "This course is full. Its waitlist has room.",
            "code": "course_full",
            "waitlist_open": True,
        }

    def test_an_unknown_course_is_404(self, student):
        response = enroll(student, "does-not-exist")
        assert response.status_code == 404
        assert response.json()["code"] == "course_not_found"

    @pytest.mark.parametrize("role", [Role.INSTRUCTOR, Role.ADMIN])
    def test_only_students_enroll(self, make_person, make_course, role):
        course = make_course()
        assert enroll(make_person(role), course.course_id).status_code == 403

    @pytest.mark.parametrize(
        "body",
        [
            {},
            {"course_id": ""},
            {"course_id": 5},
            {"course_id": "x" * 65},
            {"course_id": "../x"},
            {"course_id": None},
            [],
            "course",
        ],
    )
    def test_bad_enroll_input_is_400(self, student, body):
        response = student.client.post("/api/enrollments", body, format="json")
        assert response.status_code == 400


class TestDrop:
    def test_dropping_keeps_the_record_and_frees_the_seat(self, student, make_course):
        course = make_course(capacity=1)
        enroll(student, course.course_id)
        assert student.client.delete(f"/api/enrollments/{course.course_id}").status_code == 204
        record = student.client.get(f"/api/enrollments/{course.course_id}").json()
        assert record["status"] == "dropped"
        assert record["dropped_at"] is not None
        assert Course.get(course.course_id).enrolled_count == 0

    def test_dropping_twice_is_404(self, student, make_course):
        course = make_course()
        enroll(student, course.course_id)
        student.client.delete(f"/api/enrollments/{course.course_id}")
        response = student.client.delete(f"/api/enrollments/{course.course_id}")
        assert response.status_code == 404
        assert response.json()["code"] == "not_enrolled"
        assert Course.get(course.course_id).enrolled_count == 0

    def test_dropping_a_course_never_enrolled_is_404(self, student, make_course):
        assert student.client.delete(f"/api/enrollments/{make_course().course_id}").status_code == 404

    def test_re_enrolling_after_a_drop_works(self, student, make_course):
        course = make_course(capacity=1)
        enroll(student, course.course_id)
        student.client.delete(f"/api/enrollments/{course.course_id}")
        response = enroll(student, course.course_id)
        assert response.status_code == 201
        assert response.json()["status"] == "enrolled"
        assert response.json()["dropped_at"] is None
        assert Course.get(course.course_id).enrolled_count == 1

    def test_another_students_enrollment_is_invisible(self, make_person, make_course):
        course = make_course()
        owner, other = make_person(Role.STUDENT), make_person(Role.STUDENT)
        enroll(owner, course.course_id)
        assert other.client.get(f"/api/enrollments/{course.course_id}").status_code == 404
        assert other.client.delete(f"/api/enrollments/{course.course_id}").status_code == 404
        assert Course.get(course.course_id).enrolled_count == 1

    def test_a_service_call_cannot_drop_someone_elses_enrollment(self, make_person, make_course):
        course = make_course()
        owner, other = make_person(Role.STUDENT), make_person(Role.STUDENT)
        enroll(owner, course.course_id)
        with pytest.raises(Exception, match="no enrollment"):
            enrollment_services.drop(actor=other.actor, user_id=owner.user_id, course_id=course.course_id)


class TestMyEnrollments:
    def test_my_enrollments_embed_their_courses_newest_first(self, student, make_course):
        courses = [make_course(title=f"Course {number}") for number in range(3)]
        for course in courses:
            enroll(student, course.course_id)
        body = student.client.get("/api/enrollments/me").json()
        assert [entry["course"]["title"] for entry in body["results"]] == ["Course 2", "Course 1", "Course 0"]
        assert body["next_cursor"] is None

    def test_filters_by_semester_and_status(self, student, make_course):
        semester = unique_semester()
        kept = make_course(semester_id=semester)
        dropped = make_course(semester_id=semester)
        elsewhere = make_course()
        for course in (kept, dropped, elsewhere):
            enroll(student, course.course_id)
        student.client.delete(f"/api/enrollments/{dropped.course_id}")
        in_semester = student.client.get("/api/enrollments/me", {"semester_id": semester}).json()["results"]
        assert {entry["course_id"] for entry in in_semester} == {kept.course_id, dropped.course_id}
        enrolled = student.client.get("/api/enrollments/me", {"semester_id": semester, "status": "enrolled"}).json()
        assert [entry["course_id"] for entry in enrolled["results"]] == [kept.course_id]

    def test_a_page_of_25_costs_one_query_and_a_batch_get_per_table(self, student, make_course, dynamodb_calls):
        for _ in range(25):
            enrollment_services.enroll(actor=student.actor, course_id=make_course().course_id)
        dynamodb_calls.clear()
        body = student.client.get("/api/enrollments/me", {"limit": 25}).json()
        assert len(body["results"]) == 25
        assert all(entry["course"] is not None for entry in body["results"])
        # The page and its semesters' credit totals (schedules), then the courses it embeds (cached when
        # on); without the cache, the token check reads the user too.
        assert dynamodb_calls.operations == when_cached(
            ["Query", "BatchGetItem"], ["Query", "BatchGetItem", "BatchGetItem", "GetItem"]
        )

    def test_pages_cover_every_enrollment_once(self, student, make_course):
        course_ids = {make_course().course_id for _ in range(5)}
        for course_id in course_ids:
            enrollment_services.enroll(actor=student.actor, course_id=course_id)
        seen, cursor = [], None
        while True:
            body = student.client.get(
                "/api/enrollments/me", {"limit": 2, **({"cursor": cursor} if cursor else {})}
            ).json()
            seen += [entry["course_id"] for entry in body["results"]]
            cursor = body["next_cursor"]
            if not cursor:
                break
        assert sorted(seen) == sorted(course_ids)

    def test_a_deleted_course_shows_as_null(self, student, instructor, make_course):
        course = make_course()
        enroll(student, course.course_id)
        student.client.delete(f"/api/enrollments/{course.course_id}")
        assert instructor.client.delete(f"/api/courses/{course.course_id}").status_code == 204
        entry = student.client.get("/api/enrollments/me").json()["results"][0]
        assert entry["course"] is None

    @pytest.mark.parametrize(
        "params", [{"semester_id": "x"}, {"status": "pending"}, {"limit": 1000}, {"cursor": "bad"}]
    )
    def test_bad_parameters_are_400(self, student, params):
        assert student.client.get("/api/enrollments/me", params).status_code == 400


class TestConcurrency:
    def test_thirty_students_racing_for_ten_seats_fill_exactly_ten(self, make_person, make_course):
        course = make_course(capacity=10)
        students = [make_person(Role.STUDENT) for _ in range(30)]
        start = threading.Barrier(len(students))

        def attempt(person) -> int:
            client = authenticated_client(person.user)
            start.wait()
            return client.post("/api/enrollments", {"course_id": course.course_id}, format="json").status_code

        with ThreadPoolExecutor(max_workers=len(students)) as pool:
            statuses = list(pool.map(attempt, students))
        assert statuses.count(201) == 10
        assert statuses.count(409) == 20
        assert Course.get(course.course_id, consistent_read=True).enrolled_count == 10
        assert roster_size(course.course_id) == 10

    def test_one_student_retrying_concurrently_is_enrolled_once(self, student, make_course):
        course = make_course(capacity=10)
        start = threading.Barrier(10)

        def attempt(_: int) -> int:
            client = authenticated_client(student.user)
            start.wait()
            return client.post("/api/enrollments", {"course_id": course.course_id}, format="json").status_code

        with ThreadPoolExecutor(max_workers=10) as pool:
            statuses = list(pool.map(attempt, range(10)))
        assert statuses.count(201) == 1
        assert set(statuses) <= {200, 201, 409}
        assert Course.get(course.course_id, consistent_read=True).enrolled_count == 1

    def test_churning_enrolls_and_drops_keep_the_counter_equal_to_the_records(self, make_person, make_course):
        course = make_course(capacity=5)
        students = [make_person(Role.STUDENT) for _ in range(12)]

        def churn(person) -> None:
            client = authenticated_client(person.user)
            for _ in range(3):
                client.post("/api/enrollments", {"course_id": course.course_id}, format="json")
                client.delete(f"/api/enrollments/{course.course_id}")
            client.post("/api/enrollments", {"course_id": course.course_id}, format="json")

        with ThreadPoolExecutor(max_workers=len(students)) as pool:
            list(pool.map(churn, students))
        count = Course.get(course.course_id, consistent_read=True).enrolled_count
        assert count == roster_size(course.course_id)
        assert 0 < count <= 5
