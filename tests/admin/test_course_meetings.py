"""A course's meetings and prerequisites in the admin: typed as text (one meeting a line, codes
separated by commas), validated by the API's serializer with messages naming the line or code,
shown on the list and the change page; and what the change page says when enrolled students'
schedules hold the course's credits and meetings."""

from __future__ import annotations

import pytest

from courses.models import Course
from enrollments import services as enrollment_services
from enrollments.models import Schedule
from tests.admin.helpers import COURSES, messages_of, text
from tests.conftest import Person, unique_semester

MONDAY_NINE = {"days": ["MON", "WED"], "start": "09:00", "end": "10:15"}


def add_form(owner: Person, **changes: str) -> dict:
    return {
        "course_code": "mt 101",
        "title": "Meeting Times",
        "description": "",
        "semester_id": unique_semester(),
        "department_id": 5,
        "credits": 3,
        "capacity": 25,
        "meetings": "",
        "prerequisites": "",
        "instructor": owner.user.email,
        **changes,
    }


def change_form(admin_client, course: Course, **changes: object) -> dict:
    """The change page's form as the browser would send it back, with some fields changed."""
    return admin_client.get(f"{COURSES}{course.course_id}/change/").context["form"].initial | changes


class TestTypingThem:
    def test_add_parses_meetings_and_prerequisites_into_the_apis_shape(self, admin_client, instructor):
        form = add_form(
            instructor,
            meetings="wed mon 09:00-10:15\n\n  FRI, SAT 13:00 - 14:30  ",
            prerequisites="cs 101, MATH 200; cs 101",
        )
        response = admin_client.post(f"{COURSES}add/", form)
        assert response.status_code == 302
        course = next(iter(Course.by_instructor.query(instructor.user_id)))
        assert course.meetings == [MONDAY_NINE, {"days": ["FRI", "SAT"], "start": "13:00", "end": "14:30"}]
        assert course.prerequisites == ["CS 101", "MATH 200"]

    @pytest.mark.parametrize(
        ("meetings", "message"),
        [
            ("MON WED", "Line 1: write the days, then start-end, like MON WED 09:00-10:15."),
            ("MON 9:00-10:00", "Line 1: start: Use HH:MM on the 24-hour clock, like 09:00 or 17:30."),
            ("MON 09:00-10:00\n\nTUE 24:00-24:30", "Line 3: start: Use HH:MM on the 24-hour clock"),
            ("MON 10:00-09:00", "Line 1: end: Must be after start."),
            ("MON 10:00-10:00", "Line 1: end: Must be after start."),
            ("FUNDAY 09:00-10:00", 'Line 1: days: "FUNDAY" is not a valid choice.'),
            ("MON MON 09:00-10:00", "Line 1: days: Name each day once."),
            ("\n".join(["MON 09:00-10:00"] * 11), "Ensure this field has no more than 10 elements."),
            ("MON 09:00-10:00\n" * 200, "Ensure this value has at most 2000 characters"),
        ],
    )
    def test_bad_meetings_are_explained_on_the_field(self, admin_client, instructor, meetings, message):
        response = admin_client.post(f"{COURSES}add/", add_form(instructor, meetings=meetings))
        assert response.status_code == 200
        errors = response.context["form"].errors["meetings"]
        assert any(error.startswith(message) for error in errors), errors
        assert not list(Course.by_instructor.query(instructor.user_id))

    @pytest.mark.parametrize(
        ("prerequisites", "message"),
        [
            ("CS 101, CS_101!", "CS_101!: Use 2 to 20 letters"),
            (", ".join(f"CS {number}" for number in range(21)), "Ensure this field has no more than 20 elements."),
            ("mt 101", "MT 101 cannot be a prerequisite of itself."),
        ],
    )
    def test_bad_prerequisites_are_explained_on_the_field(self, admin_client, instructor, prerequisites, message):
        response = admin_client.post(f"{COURSES}add/", add_form(instructor, prerequisites=prerequisites))
        assert response.status_code == 200
        errors = response.context["form"].errors["prerequisites"]
        assert any(error.startswith(message) for error in errors), errors


class TestShowingThem:
    def test_the_list_shows_them(self, admin_client, make_course):
        course = make_course(meetings=[MONDAY_NINE], prerequisites=["CS 1", "MATH 2"])
        page = text(admin_client.get(COURSES, {"semester": course.semester_id}))
        assert "MON WED 09:00-10:15" in page
        assert "CS 1, MATH 2" in page

    def test_the_change_page_shows_them_as_text_and_saving_them_unchanged_changes_nothing(
        self, admin_client, make_course
    ):
        course = make_course(meetings=[MONDAY_NINE, {"days": ["FRI"], "start": "13:00", "end": "14:00"}])
        page = admin_client.get(f"{COURSES}{course.course_id}/change/")
        assert page.context["form"].initial["meetings"] == "MON WED 09:00-10:15\nFRI 13:00-14:00"
        assert "MON WED 09:00-10:15\nFRI 13:00-14:00</textarea>" in text(page)
        unchanged = change_form(admin_client, course)
        response = admin_client.post(f"{COURSES}{course.course_id}/change/", unchanged, follow=True)
        assert "No fields changed." in messages_of(response)
        assert Course.get(course.course_id).revision == course.revision

    def test_the_change_form_replaces_them(self, admin_client, make_course, student):
        course = make_course(meetings=[MONDAY_NINE], prerequisites=["CS 1"])
        form = change_form(admin_client, course, meetings="TUE 14:00-15:00", prerequisites="")
        response = admin_client.post(f"{COURSES}{course.course_id}/change/", form)
        assert response.status_code == 302
        body = student.client.get(f"/api/courses/{course.course_id}").json()
        assert (body["meetings"], body["prerequisites"]) == ([{"days": ["TUE"], "start": "14:00", "end": "15:00"}], [])


class TestEnrolledStudentsSchedules:
    NOTE = "their instructor can no longer make this change"

    def test_the_change_page_says_a_change_reaches_enrolled_students(self, admin_client, make_course, student):
        course = make_course(meetings=[MONDAY_NINE])
        assert self.NOTE not in text(admin_client.get(f"{COURSES}{course.course_id}/change/"))
        enrollment_services.enroll(actor=student.actor, course_id=course.course_id)
        page = text(admin_client.get(f"{COURSES}{course.course_id}/change/"))
        assert "Registration has opened and 1 student is enrolled." in page
        assert self.NOTE in page

    def test_an_admins_change_updates_their_schedules(self, admin_client, make_course, student):
        course = make_course(credits=3, meetings=[MONDAY_NINE])
        enrollment_services.enroll(actor=student.actor, course_id=course.course_id)
        form = change_form(admin_client, course, credits=4, meetings="THU 16:00-17:00")
        assert admin_client.post(f"{COURSES}{course.course_id}/change/", form).status_code == 302
        schedule = Schedule.get(student.user_id, course.semester_id, consistent_read=True)
        assert schedule.courses[course.course_id]["meetings"] == [{"days": ["THU"], "start": "16:00", "end": "17:00"}]
        assert schedule.enrolled_credits == 4
