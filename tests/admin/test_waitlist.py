"""A course's waitlist in the admin: shown on the course's page in join order, removing a student through
the drop service (audited, the others move up), who may do it, and the course forms' waitlist capacity.
Tasks run inline here, so a drop's promotion and the audit records are written when the response arrives."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from accounts.models import Role
from audit.models import AuditRecord, entity_key_for
from courses.models import Course
from enrollments import services as enrollment_services
from enrollments.models import Enrollment, EnrollmentStatus, enrollment_id_for
from tests.admin.helpers import COURSES, USERS, messages_of, signed_in, text
from tests.conftest import TEST_PASSWORD, unique_semester


def change_page(course: Course) -> str:
    return f"{COURSES}{course.course_id}/change/"


def remove_page(course: Course, person) -> str:
    return f"{COURSES}{course.course_id}/waitlist/remove/?user={person.user_id}"


def shown_waitlist(response) -> list[tuple[int, str]]:
    """The waitlist panel's rows as (position, the student's email)."""
    (panel,) = response.context["panels"]
    return [(row.cells[0], row.cells[1].split("&lt;")[1].split("&gt;")[0]) for row in panel.rows]


@pytest.fixture
def waitlisted_course(make_course, make_person):
    """A one-seat course, its seat taken; returns (course, the holder, three students waiting in order)."""
    course = make_course(capacity=1)
    holder = make_person()
    enrollment_services.enroll(actor=holder.actor, course_id=course.course_id)
    waiting = [make_person(), make_person(), make_person()]
    for person in waiting:
        result = enrollment_services.enroll(actor=person.actor, course_id=course.course_id, waitlist=True)
        assert result.enrollment.status == EnrollmentStatus.WAITLISTED
    return course, holder, waiting


class TestWaitlistOnTheCoursePage:
    def test_shows_the_waitlist_in_join_order_with_links_to_the_students(self, admin_client, waitlisted_course):
        course, _, waiting = waitlisted_course
        response = admin_client.get(change_page(course))
        assert response.status_code == 200
        assert shown_waitlist(response) == [(position, person.user.email) for position, person in enumerate(waiting, 1)]
        page = text(response)
        assert "Waitlist: 3 of 20" in page
        assert f'href="/admin/enrollments/student/{waiting[0].user_id}/"' in page
        assert f'href="{remove_page(course, waiting[0])}"' in page
        assert ("Waitlist", "3 of 20") in response.context["readonly"]

    def test_reads_the_index_and_embeds_the_students_in_one_batch(
        self, admin_client, waitlisted_course, make_person, dynamodb_calls
    ):
        course, _, _ = waitlisted_course

        def calls_for_the_page() -> list[str]:
            cache.clear()  # every profile read from DynamoDB, not from an earlier page
            dynamodb_calls.clear()
            assert admin_client.get(change_page(course)).status_code == 200
            return list(dynamodb_calls.operations)

        with_three = calls_for_the_page()
        for _ in range(4):
            enrollment_services.enroll(actor=make_person().actor, course_id=course.course_id, waitlist=True)
        with_seven = calls_for_the_page()
        assert with_seven == with_three  # no read per student
        assert "Query" in with_seven
        assert "Scan" not in with_seven

    def test_says_when_nobody_waits_or_the_course_has_no_waitlist(self, admin_client, make_course):
        course = make_course()
        assert "Nobody is waiting for a seat." in text(admin_client.get(change_page(course)))
        closed = make_course(waitlist_capacity=0)
        page = text(admin_client.get(change_page(closed)))
        assert "This course has no waitlist" in page
        assert "none (capacity 0)" in page

    def test_the_course_list_shows_who_waits_of_how_many_may(self, admin_client, waitlisted_course):
        course, _, _ = waitlisted_course
        response = admin_client.get(COURSES, {"semester": int(course.semester_id)})
        assert "<span>Waitlist</span>" in text(response)
        assert "<td>3 of 20</td>" in text(response)


class TestRemovingFromTheWaitlist:
    def test_asks_then_removes_through_the_drop_service_and_the_others_move_up(
        self, admin_client, waitlisted_course, admin
    ):
        course, _, (first, second, third) = waitlisted_course
        confirm = admin_client.get(remove_page(course, first))
        assert confirm.status_code == 200
        assert f"Remove {first.user.name} &lt;{first.user.email}&gt; from the waitlist of" in text(confirm)
        assert "Position: 1 of 3" in text(confirm)
        assert Enrollment.get(enrollment_id_for(user_id=first.user_id, course_id=course.course_id)).status == (
            EnrollmentStatus.WAITLISTED
        )

        response = admin_client.post(remove_page(course, first), {"post": "yes"}, follow=True)
        assert response.redirect_chain == [(change_page(course), 302)]
        assert f"{first.user.name} was removed from the waitlist of {course.course_code} {course.title}." in (
            messages_of(response)
        )
        removed = Enrollment.get(enrollment_id_for(user_id=first.user_id, course_id=course.course_id))
        assert (removed.status, removed.waitlist_course_id) == (EnrollmentStatus.WAITLIST_LEFT, None)
        assert shown_waitlist(response) == [(1, second.user.email), (2, third.user.email)]
        assert "Waitlist: 2 of 20" in text(response)
        positions = [
            third.client.get(f"/api/enrollments/{course.course_id}").json()["waitlist_position"],
            second.client.get(f"/api/enrollments/{course.course_id}").json()["waitlist_position"],
        ]
        assert positions == [2, 1]
        stored = Course.get(course.course_id, consistent_read=True)
        assert (stored.waitlisted_count, stored.enrolled_count) == (2, 1)  # no seat changed hands

        (record,) = [
            record
            for record in AuditRecord.by_entity.query(entity_key_for("enrollment", removed.enrollment_id))
            if record.action == "waitlist_left"
        ]
        assert (record.actor_id, record.before["status"], record.after["status"]) == (
            admin.user_id,
            "waitlisted",
            "waitlist_left",
        )

    def test_a_student_promoted_meanwhile_is_not_dropped(self, admin_client, waitlisted_course):
        course, holder, (first, _, _) = waitlisted_course
        enrollment_services.drop(actor=holder.actor, user_id=holder.user_id, course_id=course.course_id)
        promoted = Enrollment.get(enrollment_id_for(user_id=first.user_id, course_id=course.course_id))
        assert promoted.status == EnrollmentStatus.ENROLLED  # the freed seat went to the first in line
        response = admin_client.post(remove_page(course, first), {"post": "yes"}, follow=True)
        assert "That student is not on this course's waitlist (any more)." in messages_of(response)
        assert Enrollment.get(promoted.enrollment_id).status == EnrollmentStatus.ENROLLED

    def test_removing_twice_is_explained(self, admin_client, waitlisted_course):
        course, _, (first, _, _) = waitlisted_course
        admin_client.post(remove_page(course, first), {"post": "yes"})
        response = admin_client.post(remove_page(course, first), {"post": "yes"}, follow=True)
        assert "That student is not on this course's waitlist (any more)." in messages_of(response)
        assert Course.get(course.course_id, consistent_read=True).waitlisted_count == 2

    def test_a_waitlisted_row_of_the_roster_links_to_the_removal(self, admin_client, waitlisted_course):
        course, _, (first, _, _) = waitlisted_course
        roster = text(admin_client.get("/admin/enrollments/enrollment/", {"course": course.course_id}))
        assert remove_page(course, first).replace("&", "&amp;") in roster

    def test_only_a_signed_in_admin_reaches_it(self, waitlisted_course, admin, make_person, admin_client):
        course, _, (first, _, _) = waitlisted_course
        for client in (Client(), signed_in_as_a_demoted_admin(admin, admin_client, make_person)):
            assert client.get(remove_page(course, first)).status_code == 302
            response = client.post(remove_page(course, first), {"post": "yes"})
            assert (response.status_code, response["Location"].split("?")[0]) == (302, "/admin/login/")
        assert Enrollment.get(enrollment_id_for(user_id=first.user_id, course_id=course.course_id)).status == (
            EnrollmentStatus.WAITLISTED
        )

    def test_the_removal_needs_the_pages_csrf_token(self, admin, waitlisted_course):
        course, _, (first, _, _) = waitlisted_course
        client = Client(enforce_csrf_checks=True)
        login_page = client.get("/admin/login/")
        client.post(
            "/admin/login/",
            {
                "username": admin.user.email,
                "password": TEST_PASSWORD,
                "csrfmiddlewaretoken": login_page.context["csrf_token"],
            },
        )
        assert client.post(remove_page(course, first), {"post": "yes"}).status_code == 403
        assert Course.get(course.course_id, consistent_read=True).waitlisted_count == 3


def signed_in_as_a_demoted_admin(admin, admin_client, make_person) -> Client:
    """`admin_client`, after another admin made its user an instructor."""
    other_admin = signed_in(make_person(Role.ADMIN))
    response = other_admin.post(
        f"{USERS}{admin.user_id}/change/", {"name": admin.user.name, "role": "instructor", "is_active": "on"}
    )
    assert response.status_code == 302
    return admin_client


class TestWaitlistCapacityOnTheForms:
    def form(self, owner, **changes) -> dict:
        return {
            "course_code": "WL 101",
            "title": "Waitlisted",
            "semester_id": unique_semester(),
            "department_id": 5,
            "credits": 3,
            "capacity": 10,
            "instructor": owner.user.email,
            **changes,
        }

    def test_add_takes_the_waitlist_capacity_and_change_shows_and_saves_it(self, admin_client, instructor):
        assert admin_client.post(f"{COURSES}add/", self.form(instructor, waitlist_capacity=5)).status_code == 302
        course = next(iter(Course.by_instructor.query(instructor.user_id)))
        assert course.waitlist_capacity == 5
        assert instructor.client.get(f"/api/courses/{course.course_id}").json()["waitlist_capacity"] == 5
        form = admin_client.get(change_page(course)).context["form"].initial
        assert form["waitlist_capacity"] == 5
        response = admin_client.post(change_page(course), form | {"description": "", "waitlist_capacity": 0})
        assert response.status_code == 302
        assert Course.get(course.course_id).waitlist_capacity == 0
        assert instructor.client.get(f"/api/courses/{course.course_id}").json()["waitlist_capacity"] == 0
        assert "none (capacity 0)" in text(admin_client.get(change_page(course)))

    def test_add_left_empty_takes_the_apis_default(self, admin_client, instructor):
        assert admin_client.get(f"{COURSES}add/").context["form"]["waitlist_capacity"].initial == 20
        assert admin_client.post(f"{COURSES}add/", self.form(instructor, waitlist_capacity="")).status_code == 302
        assert next(iter(Course.by_instructor.query(instructor.user_id))).waitlist_capacity == 20

    @pytest.mark.parametrize(
        ("value", "message"),
        [(-1, "greater than or equal to 0"), (1001, "less than or equal to 1000"), ("", "This field is required")],
    )
    def test_change_refuses_what_the_api_refuses(self, admin_client, make_course, value, message):
        course = make_course()
        form = admin_client.get(change_page(course)).context["form"].initial | {"waitlist_capacity": value}
        response = admin_client.post(change_page(course), form)
        assert response.status_code == 200
        assert any(message in error for error in response.context["form"].errors["waitlist_capacity"])
        assert Course.get(course.course_id).waitlist_capacity == 20
