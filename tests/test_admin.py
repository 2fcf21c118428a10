"""The admin site over DynamoDB, through Django's test client: sign-in, every list and form, and the
actions, each going through the same services (and so the same rules, caches and audit) as the API."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django_redis import get_redis_connection

from accounts.models import Role
from accounts.selectors import user_by_id
from audit.models import AuditRecord
from courseproject.caching import keys
from courseproject.dynamo.client import reset_dynamodb_client
from courses.models import Course
from enrollments import services as enrollment_services
from tests.conftest import TEST_PASSWORD, Person, unique_email, unique_semester

COURSES = "/admin/courses/course/"
ENROLLMENTS = "/admin/enrollments/enrollment/"
USERS = "/admin/accounts/user/"
AUDIT = "/admin/audit/auditrecord/"


def signed_in(person: Person) -> Client:
    client = Client()
    response = client.post("/admin/login/", {"username": person.user.email, "password": TEST_PASSWORD})
    assert response.status_code == 302, response.content.decode()
    return client


@pytest.fixture
def admin_client(admin: Person) -> Client:
    return signed_in(admin)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []


def streamed_text(response) -> str:
    """The body of a streamed response (the roster exports), as the browser would save it."""
    return b"".join(response.streaming_content).decode()


def text(response) -> str:
    return response.content.decode()


class TestSignIn:
    def test_an_admin_signs_in_and_sees_every_section(self, admin):
        client = Client()
        login_page = client.get("/admin/login/?next=/admin/")
        assert login_page.status_code == 200
        assert 'name="username"' in text(login_page)

        response = client.post("/admin/login/?next=/admin/", {"username": admin.user.email, "password": TEST_PASSWORD})
        assert response.status_code == 302
        assert response["Location"] == "/admin/"
        index = client.get("/admin/")
        assert index.status_code == 200
        for link in (COURSES, ENROLLMENTS, USERS, AUDIT, "/admin/courses/course/add/", "/admin/accounts/user/add/"):
            assert f'href="{link}"' in text(index)

    @pytest.mark.parametrize(
        ("app", "section"), [("courses", COURSES), ("enrollments", ENROLLMENTS), ("accounts", USERS), ("audit", AUDIT)]
    )
    def test_each_app_has_its_index(self, admin_client, app, section):
        response = admin_client.get(f"/admin/{app}/")
        assert response.status_code == 200
        assert f'href="{section}"' in text(response)

    @pytest.mark.parametrize("role", [Role.STUDENT, Role.INSTRUCTOR])
    def test_students_and_instructors_cannot_enter(self, make_person, role):
        person = make_person(role)
        client = Client()
        response = client.post("/admin/login/", {"username": person.user.email, "password": TEST_PASSWORD})
        assert response.status_code == 200
        assert "correct email and password for an admin account" in text(response)
        assert client.get(COURSES).status_code == 302

    def test_a_wrong_password_is_refused(self, admin):
        response = Client().post("/admin/login/", {"username": admin.user.email, "password": "not-the-password"})
        assert response.status_code == 200
        assert "correct email and password for an admin account" in text(response)

    def test_sign_in_attempts_are_throttled(self, admin, settings):
        settings.LOGIN_THROTTLE_RATE = "2/min"
        client = Client()
        for _ in range(2):
            client.post("/admin/login/", {"username": admin.user.email, "password": "guess"})
        response = client.post("/admin/login/", {"username": admin.user.email, "password": TEST_PASSWORD})
        assert "Too many sign-in attempts" in text(response)
        assert client.get(COURSES).status_code == 302

    def test_pages_need_a_signed_in_admin(self):
        response = Client().get(COURSES)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/?next=")

    def test_a_demoted_admin_loses_access_at_once(self, admin, make_person, admin_client):
        other_admin = signed_in(make_person(Role.ADMIN))
        response = other_admin.post(
            f"{USERS}{admin.user_id}/change/", {"name": admin.user.name, "role": "instructor", "is_active": "on"}
        )
        assert response.status_code == 302
        assert admin_client.get(COURSES).status_code == 302

    def test_login_without_a_csrf_token_is_refused(self, admin):
        client = Client(enforce_csrf_checks=True)
        response = client.post("/admin/login/", {"username": admin.user.email, "password": TEST_PASSWORD})
        assert response.status_code == 403

    def test_signing_out_ends_the_session(self, admin_client):
        assert admin_client.post("/admin/logout/").status_code == 200
        assert admin_client.get(COURSES).status_code == 302

    def test_pages_that_need_djangos_user_table_do_not_exist(self, admin_client):
        assert admin_client.get("/admin/password_change/").status_code == 404
        assert admin_client.get("/admin/r/1/1/").status_code == 404

    def test_dynamodb_down_shows_a_503_page(self, admin_client):
        with override_settings(DYNAMODB_ENDPOINT_URL="http://127.0.0.1:9", DYNAMODB_MAX_ATTEMPTS=1):
            reset_dynamodb_client()
            try:
                pages = [
                    admin_client.get(COURSES),
                    Client().post("/admin/login/", {"username": "a@b.edu", "password": "x"}),
                ]
            finally:
                reset_dynamodb_client()
        for response in pages:
            assert response.status_code == 503
            assert "The registration database is not answering" in text(response)

    def test_the_api_never_gets_a_session_cookie(self, admin_client, student):
        response = student.client.get("/api/auth/me")
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers
        assert "Cookie" not in response.headers.get("Vary", "")


class TestCourseList:
    def test_opens_on_the_current_semester(self, admin_client, make_course, settings):
        settings.CURRENT_SEMESTER = unique_semester()
        course = make_course(semester_id=settings.CURRENT_SEMESTER, title="Current Things")
        make_course(title="Another Semester")
        response = admin_client.get(COURSES)
        assert response.status_code == 200
        assert "Current Things" in text(response)
        assert "Another Semester" not in text(response)
        assert f"{COURSES}{course.course_id}/change/" in text(response)

    def test_filters_by_semester_and_department(self, admin_client, make_course, dynamodb_calls):
        semester = unique_semester()
        make_course(semester_id=semester, department_id=3, title="Department Three")
        make_course(semester_id=semester, department_id=4, title="Department Four")
        response = admin_client.get(COURSES, {"semester": semester, "department": 3})
        assert "Department Three" in text(response)
        assert "Department Four" not in text(response)
        assert "Query" in dynamodb_calls.operations

    def test_filters_by_instructor_email(self, admin_client, make_course, make_person):
        other = make_person(Role.INSTRUCTOR)
        make_course(owner=other, title="Other's Course")
        make_course(title="Mine")
        response = admin_client.get(COURSES, {"instructor": other.user.email})
        assert "Other&#x27;s Course" in text(response)
        assert "Mine" not in text(response)

    def test_finds_a_course_by_code_or_id(self, admin_client, make_course):
        course = make_course(course_code="ZQ 4711", title="Findable")
        assert "Findable" in text(admin_client.get(COURSES, {"q": "zq 4711"}))
        assert "Findable" in text(admin_client.get(COURSES, {"q": course.course_id}))
        assert "No courses matching" in text(admin_client.get(COURSES, {"q": "NOPE 1"}))

    def test_pages_through_a_semester_with_cursors(self, admin_client, make_course):
        semester = unique_semester()
        for number in range(53):
            make_course(semester_id=semester, course_code=f"PG {number}", title=f"Paged {number}")
        first = admin_client.get(COURSES, {"semester": semester})
        next_url = re.search(r'href="(\?[^"]*cursor=[^"]*)" class="showall" rel="next"', text(first)).group(1)
        second = admin_client.get(COURSES + next_url.replace("&amp;", "&"))
        shown = [re.findall(r"Paged \d+", text(page)) for page in (first, second)]
        assert len(shown[0]) == 50
        assert len(shown[1]) == 3
        assert not set(shown[0]) & set(shown[1])
        assert 'rel="next"' not in text(second)

    @pytest.mark.parametrize(
        ("query", "message"),
        [
            ({"semester": "spring"}, "Semester must be a number"),
            ({"instructor": "nobody@example.edu"}, "No user has the email or id"),
            ({"cursor": "forged"}, "This cursor is not valid"),
            ({"semester": "²"}, "Semester must be a number"),  # a digit to str.isdigit(), not to int()
        ],
    )
    def test_bad_filters_are_explained(self, admin_client, query, message):
        response = admin_client.get(COURSES, query)
        assert response.status_code == 200
        assert any(message in shown for shown in messages_of(response))


class TestCourseForms:
    def form(self, owner: Person, **changes) -> dict:
        return {
            "course_code": "ad 101",
            "title": "Admin Made",
            "description": "",
            "semester_id": unique_semester(),
            "department_id": 5,
            "credits": 4,
            "capacity": 25,
            "instructor": owner.user.email,
            **changes,
        }

    def test_add_creates_the_course_through_the_service(self, admin_client, instructor, admin):
        response = admin_client.post(f"{COURSES}add/", self.form(instructor))
        assert response.status_code == 302
        course = next(iter(Course.by_instructor.query(instructor.user_id)))
        assert (course.course_code, course.capacity, course.department_id) == ("AD 101", 25, 5)
        assert instructor.client.get(f"/api/courses/{course.course_id}").json()["title"] == "Admin Made"
        audit = list(AuditRecord.by_entity.query(f"course#{course.course_id}"))
        assert [(record.action, record.actor_id) for record in audit] == [("created", admin.user_id)]

    @pytest.mark.parametrize(
        ("changes", "field", "message"),
        [
            ({"capacity": 0}, "capacity", "greater than or equal to 1"),
            ({"course_code": "!!"}, "course_code", "Use 2 to 20 letters"),
            ({"instructor": "nobody@example.edu"}, "instructor", "No user has this email or id"),
            ({"title": ""}, "title", "This field is required"),
        ],
    )
    def test_add_shows_validation_messages(self, admin_client, instructor, changes, field, message):
        response = admin_client.post(f"{COURSES}add/", self.form(instructor, **changes))
        assert response.status_code == 200
        assert any(message in error for error in response.context["form"].errors[field])
        assert "Please correct the error below." in text(response)

    def test_add_refuses_a_student_as_instructor(self, admin_client, student):
        response = admin_client.post(f"{COURSES}add/", self.form(student))
        assert response.context["form"].errors["instructor"] == ["No active instructor has this id."]

    def test_change_is_served_by_the_api_at_once(self, admin_client, make_course, student):
        course = make_course(title="Before", capacity=30)
        assert student.client.get(f"/api/courses/{course.course_id}").json()["title"] == "Before"  # now cached
        page = admin_client.get(f"{COURSES}{course.course_id}/change/")
        form = page.context["form"].initial | {"title": "After", "capacity": 45, "description": ""}
        response = admin_client.post(f"{COURSES}{course.course_id}/change/", form)
        assert response.status_code == 302
        body = student.client.get(f"/api/courses/{course.course_id}").json()
        assert (body["title"], body["capacity"], body["seats_available"]) == ("After", 45, 45)
        listed = student.client.get("/api/courses", {"semester_id": course.semester_id}).json()["results"]
        assert [(item["title"], item["capacity"]) for item in listed] == [("After", 45)]

    def test_capacity_cannot_drop_below_enrolled(self, admin_client, make_course, make_person):
        course = make_course(capacity=5)
        for _ in range(3):
            enrollment_services.enroll(actor=make_person().actor, course_id=course.course_id)
        form = admin_client.get(f"{COURSES}{course.course_id}/change/").context["form"].initial | {"capacity": 2}
        response = admin_client.post(f"{COURSES}{course.course_id}/change/", form)
        assert response.status_code == 200
        assert response.context["form"].errors["capacity"] == [
            "Capacity cannot be below the 3 students already enrolled."
        ]
        assert Course.get(course.course_id).capacity == 5

    def test_saving_nothing_changes_nothing(self, admin_client, make_course):
        course = make_course()
        form = admin_client.get(f"{COURSES}{course.course_id}/change/").context["form"].initial
        response = admin_client.post(f"{COURSES}{course.course_id}/change/", form, follow=True)
        assert "No fields changed." in messages_of(response)
        assert Course.get(course.course_id).revision == course.revision

    def test_an_unknown_course_goes_back_to_the_list(self, admin_client):
        response = admin_client.get(f"{COURSES}{'0' * 32}/change/", follow=True)
        assert any("doesn’t exist" in message for message in messages_of(response))

    def test_delete_asks_then_deletes(self, admin_client, make_course, student):
        course = make_course()
        confirm = admin_client.get(f"{COURSES}{course.course_id}/delete/")
        assert "Are you sure you want to delete" in text(confirm)
        response = admin_client.post(f"{COURSES}{course.course_id}/delete/", {"post": "yes"})
        assert response.status_code == 302
        assert student.client.get(f"/api/courses/{course.course_id}").status_code == 404

    def test_a_course_with_students_is_not_deleted(self, admin_client, make_course, student):
        course = make_course()
        enrollment_services.enroll(actor=student.actor, course_id=course.course_id)
        response = admin_client.post(f"{COURSES}{course.course_id}/delete/", {"post": "yes"}, follow=True)
        assert any("drop them before deleting" in message for message in messages_of(response))
        assert Course.get(course.course_id).enrolled_count == 1


class TestCourseActions:
    def enrolled(self, make_course, make_person, count: int) -> tuple[Course, list[Person]]:
        course = make_course(course_code="RS 200", capacity=10)
        students = [make_person(name=f"Roster Student {number}") for number in range(count)]
        for person in students:
            enrollment_services.enroll(actor=person.actor, course_id=course.course_id)
        return course, students

    def test_exports_a_roster_as_csv(self, admin_client, make_course, make_person):
        course, students = self.enrolled(make_course, make_person, 3)
        enrollment_services.drop(actor=students[0].actor, user_id=students[0].user_id, course_id=course.course_id)
        response = admin_client.get(f"{COURSES}{course.course_id}/roster.csv")
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert 'filename="roster-RS-200-' in response["Content-Disposition"]
        rows = list(csv.DictReader(io.StringIO(streamed_text(response))))
        assert sorted(row["student_email"] for row in rows) == sorted(person.user.email for person in students[1:])

    def test_a_name_cannot_smuggle_a_formula_into_the_csv(self, admin_client, make_course, make_person):
        course = make_course()
        person = make_person(name='=HYPERLINK("http://evil.example","click")')
        enrollment_services.enroll(actor=person.actor, course_id=course.course_id)
        rows = list(
            csv.DictReader(io.StringIO(streamed_text(admin_client.get(f"{COURSES}{course.course_id}/roster.csv"))))
        )
        assert rows[0]["student_name"] == '\'=HYPERLINK("http://evil.example","click")'

    def test_exports_rosters_of_selected_courses(self, admin_client, make_course, make_person):
        course, _ = self.enrolled(make_course, make_person, 2)
        other, _ = self.enrolled(make_course, make_person, 1)
        response = admin_client.post(
            COURSES, {"action": "export_rosters", "_selected_action": [course.course_id, other.course_id]}
        )
        rows = list(csv.DictReader(io.StringIO(streamed_text(response))))
        assert {row["course_id"] for row in rows} == {course.course_id, other.course_id}
        assert len(rows) == 3

    def test_an_action_needs_a_selection(self, admin_client):
        response = admin_client.post(COURSES, {"action": "export_rosters"}, follow=True)
        assert any("Items must be selected" in message for message in messages_of(response))

    def test_warms_the_cache_for_a_semester(self, admin_client, make_course):
        course = make_course()
        redis = get_redis_connection("default")
        redis.delete(keys.course_detail(course.course_id).name)  # evicted
        response = admin_client.post(f"{COURSES}warm-cache/", {"semester": course.semester_id}, follow=True)
        if settings.CACHE_ENABLED:
            assert f"Warming the cache for semester {course.semester_id} in the background." in messages_of(response)
            assert redis.exists(keys.course_detail(course.course_id).name)
        else:
            assert any("CACHE_ENABLED=false" in message for message in messages_of(response))

    @pytest.mark.parametrize("semester", ["x", "²", "0"])
    def test_warming_needs_a_semester(self, admin_client, semester):
        response = admin_client.post(f"{COURSES}warm-cache/", {"semester": semester}, follow=True)
        assert "Choose a semester to warm." in messages_of(response)

    @pytest.mark.parametrize("page", ["²", "-1", "9" * 30])
    def test_odd_page_numbers_show_the_first_page(self, admin_client, page):
        assert admin_client.get(USERS, {"page": page}).status_code == 200


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


class TestUsers:
    def test_lists_users_by_role_and_finds_by_email(self, admin_client, make_person):
        instructor = make_person(Role.INSTRUCTOR)
        student = make_person(Role.STUDENT)
        instructors = admin_client.get(USERS)  # instructors first
        assert instructor.user.email in text(instructors)
        assert student.user.email not in text(instructors)
        assert student.user.email in text(admin_client.get(USERS, {"q": student.user.email.upper()}))
        assert student.user.email in text(admin_client.get(USERS, {"q": student.user_id}))

    def test_adds_an_instructor_who_can_then_sign_in(self, admin_client, admin):
        email = unique_email("new-instructor")
        response = admin_client.post(
            f"{USERS}add/",
            {
                "email": email,
                "name": "New Instructor",
                "role": "instructor",
                "password1": "s3cure-pass-phrase",
                "password2": "s3cure-pass-phrase",
            },
        )
        assert response.status_code == 302
        login = Client().post(
            "/api/auth/login", {"email": email, "password": "s3cure-pass-phrase"}, content_type="application/json"
        )
        assert login.json()["user"]["role"] == "instructor"

    @pytest.mark.parametrize(
        ("changes", "field", "message"),
        [
            ({"password2": "something-else-entirely"}, "password2", "didn’t match"),
            ({"password1": "123", "password2": "123"}, "password1", "too short"),
            ({"email": "not-an-email"}, "email", "valid email"),
        ],
    )
    def test_add_shows_validation_messages(self, admin_client, changes, field, message):
        form = {
            "email": unique_email(),
            "name": "Someone",
            "role": "admin",
            "password1": "s3cure-pass-phrase",
            "password2": "s3cure-pass-phrase",
            **changes,
        }
        response = admin_client.post(f"{USERS}add/", form)
        assert response.status_code == 200
        assert any(message in error for error in response.context["form"].errors[field])

    @pytest.mark.parametrize(
        ("name", "message"),
        [("Bell\x07 Ringer", "Control characters are not allowed"), ("x" * 101, "at most 100 characters")],
    )
    def test_names_follow_the_apis_rules(self, admin_client, student, name, message):
        added = admin_client.post(
            f"{USERS}add/",
            {
                "email": unique_email(),
                "name": name,
                "role": "instructor",
                "password1": "s3cure-pass-phrase",
                "password2": "s3cure-pass-phrase",
            },
        )
        changed = admin_client.post(
            f"{USERS}{student.user_id}/change/", {"name": name, "role": "student", "is_active": "on"}
        )
        for response in (added, changed):
            assert response.status_code == 200
            assert any(message in error for error in response.context["form"].errors["name"])
        assert user_by_id(user_id=student.user_id).name == student.user.name

    def test_an_email_is_taken_once(self, admin_client, student):
        form = {
            "email": student.user.email,
            "name": "Dup",
            "role": "admin",
            "password1": "s3cure-pass-phrase",
            "password2": "s3cure-pass-phrase",
        }
        response = admin_client.post(f"{USERS}add/", form)
        assert response.context["form"].errors["email"] == ["A user with this email already exists."]

    def test_promotes_renames_and_deactivates(self, admin_client, student, admin):
        response = admin_client.post(f"{USERS}{student.user_id}/change/", {"name": "Dr. Student", "role": "instructor"})
        assert response.status_code == 302
        user = user_by_id(user_id=student.user_id)
        assert (user.name, user.role, user.is_active) == ("Dr. Student", "instructor", False)
        refreshed = Client().post(
            "/api/auth/login", {"email": student.user.email, "password": TEST_PASSWORD}, content_type="application/json"
        )
        assert refreshed.status_code == 401
        audit = list(AuditRecord.by_entity.query(f"user#{student.user_id}", scan_index_forward=False))
        assert audit[0].before["is_active"] is True
        assert audit[0].after["is_active"] is False
        assert audit[0].actor_id == admin.user_id

    def test_an_admin_cannot_remove_their_own_access(self, admin_client, admin):
        response = admin_client.post(
            f"{USERS}{admin.user_id}/change/", {"name": "Me", "role": "student", "is_active": "on"}
        )
        assert response.context["form"].errors["role"] == ["You cannot remove your own admin access."]
        assert user_by_id(user_id=admin.user_id).role == "admin"

    def test_the_profile_cache_keeps_the_api_shape(self, admin_client, student):
        admin_client.post(
            f"{USERS}{student.user_id}/change/", {"name": "Renamed", "role": "student", "is_active": "on"}
        )
        profile = student.client.get("/api/auth/me").json()
        assert profile["name"] == "Renamed"
        assert set(profile) == {"user_id", "email", "name", "role", "created_at"}


class TestAuditLog:
    def test_by_entity_by_actor_and_detail(self, admin_client, admin, make_course):
        course = make_course(title="Audited")
        form = admin_client.get(f"{COURSES}{course.course_id}/change/").context["form"].initial | {
            "title": "Audited Twice"
        }
        admin_client.post(f"{COURSES}{course.course_id}/change/", form)
        history = admin_client.get(AUDIT, {"entity": f"course:{course.course_id}"})
        assert text(history).count("Audited") >= 2
        assert "title: &#x27;Audited&#x27; → &#x27;Audited Twice&#x27;" in text(history)
        mine = admin_client.get(AUDIT)
        assert "Audited Twice" in text(mine)
        by_email = admin_client.get(AUDIT, {"actor": admin.user.email})
        assert "Audited Twice" in text(by_email)
        record = next(iter(AuditRecord.by_actor.query(admin.user_id, scan_index_forward=False)))
        detail = admin_client.get(f"{AUDIT}{record.audit_id}/")
        assert detail.status_code == 200
        assert "&quot;title&quot;: &quot;Audited Twice&quot;" in text(detail)

    def test_the_index_shows_my_recent_actions(self, admin_client, make_course):
        course = make_course(title="Recently Touched")
        form = admin_client.get(f"{COURSES}{course.course_id}/change/").context["form"].initial | {"capacity": 31}
        admin_client.post(f"{COURSES}{course.course_id}/change/", form)
        assert "Recently Touched" in text(admin_client.get("/admin/"))

    def test_bad_entity_filters_are_explained(self, admin_client):
        response = admin_client.get(AUDIT, {"entity": "planet:earth"})
        assert any("Entity must be" in message for message in messages_of(response))

    def test_is_read_only(self, admin_client):
        assert admin_client.post(AUDIT, {"action": "delete"}).status_code == 405
