"""Courses in the admin: the list and its filters, the add, change and delete forms going through the
course services, and the actions (roster exports, cache warming)."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.conf import settings
from django_redis import get_redis_connection

from accounts.models import Role
from audit.models import AuditRecord
from courseproject.caching import keys
from courses.models import Course
from enrollments import services as enrollment_services
from tests.admin.helpers import COURSES, USERS, messages_of, streamed_text, text
from tests.conftest import Person, unique_semester


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
        assert any("drop them and clear the waitlist before deleting" in message for message in messages_of(response))
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
