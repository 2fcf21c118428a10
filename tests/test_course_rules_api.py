"""Courses' meetings and prerequisites: set on create and patch, in every course representation at
once (whatever is cached), bad input a 400 naming the field and never a 500; who may change the
credits and meetings that enrolled students' schedules hold, and when; and the schedules brought up
to date after such a change, so the credit limit and conflicts count the new values."""

# Longer than 300 lines: one specification of the course rules, a third of it the table of bad input.

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine

from audit.models import AuditRecord, entity_key_for
from courses.models import Course
from enrollments import services as enrollment_services
from enrollments.models import Schedule
from tests.conftest import authenticated_client, open_semester, unique_semester
from tests.registration import OPENS_AT, enroll, meeting

MONDAY_NINE = meeting(["MON"], "09:00", "10:00")
TUESDAY_NINE = meeting(["TUE"], "09:00", "10:00")


def course_body(**overrides: Any) -> dict[str, Any]:
    return {
        "course_code": "CS 101",
        "title": "Introduction to Programming",
        "department_id": 4,
        "credits": 3,
        "capacity": 40,
        "semester_id": unique_semester(),
        **overrides,
    }


def every_representation(person, course: Course) -> list[dict[str, Any]]:
    """The course as the detail, its semester's list, its instructor's list and the person's
    enrollments (they are enrolled in it) show it."""
    client = person.client

    def listed(params: dict[str, Any]) -> list[dict[str, Any]]:
        results = client.get("/api/courses", params).json()["results"]
        return [item for item in results if item["course_id"] == course.course_id]

    mine = [
        entry["course"]
        for entry in client.get("/api/enrollments/me").json()["results"]
        if entry["course_id"] == course.course_id
    ]
    shown = [
        client.get(f"/api/courses/{course.course_id}").json(),
        *listed({"semester_id": course.semester_id}),
        *listed({"instructor_id": course.instructor_id}),
        *mine,
    ]
    assert len(shown) == 4
    return shown


class TestInEveryRepresentation:
    def test_both_default_to_empty_lists(self, instructor):
        body = instructor.client.post("/api/courses", course_body(), format="json").json()
        assert (body["meetings"], body["prerequisites"]) == ([], [])

    def test_set_on_create_and_shown_everywhere(self, admin, instructor, student):
        response = instructor.client.post(
            "/api/courses",
            course_body(
                meetings=[meeting(["WED", "MON"], "09:00", "10:15"), meeting(["FRI"], "13:00", "15:00")],
                prerequisites=["cs 100", "MATH 200"],
            ),
            format="json",
        )
        assert response.status_code == 201
        created = response.json()
        expected_meetings = [meeting(["MON", "WED"], "09:00", "10:15"), meeting(["FRI"], "13:00", "15:00")]
        assert (created["meetings"], created["prerequisites"]) == (expected_meetings, ["CS 100", "MATH 200"])
        course = Course.get(created["course_id"], consistent_read=True)
        enrollment_services.enroll(
            actor=admin.actor, course_id=course.course_id, student_id=student.user_id, override_reason="test"
        )
        for shown in every_representation(student, course):
            assert (shown["meetings"], shown["prerequisites"]) == (expected_meetings, ["CS 100", "MATH 200"])

    def test_a_patch_is_shown_everywhere_at_once(self, admin, instructor, student, make_course):
        course = make_course(meetings=[MONDAY_NINE])
        assert enroll(student, course).status_code == 201
        every_representation(student, course)  # now cached
        prerequisites = instructor.client.patch(
            f"/api/courses/{course.course_id}", {"prerequisites": ["PHYS 150"]}, format="json"
        )
        assert prerequisites.status_code == 200
        meetings = admin.client.patch(f"/api/courses/{course.course_id}", {"meetings": [TUESDAY_NINE]}, format="json")
        assert meetings.json()["meetings"] == [TUESDAY_NINE]
        for shown in every_representation(student, course):
            assert (shown["meetings"], shown["prerequisites"]) == ([TUESDAY_NINE], ["PHYS 150"])

    def test_a_patch_replaces_the_lists_whole(self, instructor, make_course):
        course = make_course(meetings=[MONDAY_NINE, TUESDAY_NINE], prerequisites=["CS 1", "CS 2"])
        response = instructor.client.patch(
            f"/api/courses/{course.course_id}", {"meetings": [], "prerequisites": ["CS 3"]}, format="json"
        )
        assert (response.json()["meetings"], response.json()["prerequisites"]) == ([], ["CS 3"])
        stored = Course.get(course.course_id, consistent_read=True)
        assert (stored.meetings, stored.prerequisites) == ([], ["CS 3"])


class TestPrerequisiteCodes:
    def test_duplicates_are_kept_once_in_the_order_first_given(self, instructor):
        body = course_body(prerequisites=["math 200", "CS 101", "MATH 200", " cs 101 "], course_code="CS 300")
        response = instructor.client.post("/api/courses", body, format="json")
        assert response.json()["prerequisites"] == ["MATH 200", "CS 101"]

    def test_the_limit_counts_the_codes_as_sent(self, instructor):
        twenty = [f"CS {number}" for number in range(20)]
        accepted = instructor.client.post("/api/courses", course_body(prerequisites=twenty), format="json")
        assert accepted.status_code == 201
        with_a_repeat = instructor.client.post(
            "/api/courses", course_body(prerequisites=[*twenty, "cs 0"]), format="json"
        )
        assert with_a_repeat.status_code == 400
        assert with_a_repeat.json() == {"prerequisites": ["Ensure this field has no more than 20 elements."]}

    def test_a_course_is_not_its_own_prerequisite(self, instructor, make_course):
        response = instructor.client.post(
            "/api/courses", course_body(course_code="CS 101", prerequisites=["cs 101"]), format="json"
        )
        assert response.json() == {"prerequisites": ["CS 101 cannot be a prerequisite of itself."]}
        course = make_course(course_code="CS 102", prerequisites=["CS 101"])
        renamed = instructor.client.patch(f"/api/courses/{course.course_id}", {"course_code": "cs 101"}, format="json")
        assert renamed.status_code == 400
        assert "prerequisites" in renamed.json()
        assert Course.get(course.course_id, consistent_read=True).course_code == "CS 102"


BAD_INPUT = [
    # meetings
    ({"meetings": "MON 09:00-10:00"}, "meetings"),
    ({"meetings": {"days": ["MON"], "start": "09:00", "end": "10:00"}}, "meetings"),
    ({"meetings": None}, "meetings"),
    ({"meetings": ["MON"]}, "meetings"),
    ({"meetings": [42]}, "meetings"),
    ({"meetings": [meeting(["MON", "FUNDAY"], "09:00", "10:00")]}, "meetings"),
    ({"meetings": [meeting(["mon"], "09:00", "10:00")]}, "meetings"),
    ({"meetings": [meeting(["MON", "MON"], "09:00", "10:00")]}, "meetings"),
    ({"meetings": [meeting([], "09:00", "10:00")]}, "meetings"),
    ({"meetings": [meeting("MON", "09:00", "10:00")]}, "meetings"),
    ({"meetings": [meeting(["MON"] * 8, "09:00", "10:00")]}, "meetings"),
    ({"meetings": [meeting(["MON"], "25:00", "26:00")]}, "meetings"),
    ({"meetings": [meeting(["MON"], "9:00", "10:00")]}, "meetings"),
    ({"meetings": [meeting(["MON"], "23:00", "24:00")]}, "meetings"),
    ({"meetings": [meeting(["MON"], "09:00:00", "10:00:00")]}, "meetings"),
    ({"meetings": [meeting(["MON"], 900, 1000)]}, "meetings"),
    ({"meetings": [meeting(["MON"], "", "10:00")]}, "meetings"),
    ({"meetings": [meeting(["MON"], None, "10:00")]}, "meetings"),
    ({"meetings": [meeting(["MON"], "10:00", "09:00")]}, "meetings"),
    ({"meetings": [meeting(["MON"], "10:00", "10:00")]}, "meetings"),
    ({"meetings": [{"days": ["MON"], "start": "09:00"}]}, "meetings"),
    ({"meetings": [{"days": [["MON"]], "start": {"hour": 9}, "end": [[10]]}]}, "meetings"),
    ({"meetings": [MONDAY_NINE] * 11}, "meetings"),
    # prerequisites
    ({"prerequisites": "CS 101"}, "prerequisites"),
    ({"prerequisites": {"CS 101": True}}, "prerequisites"),
    ({"prerequisites": None}, "prerequisites"),
    ({"prerequisites": ["CS_101!"]}, "prerequisites"),
    ({"prerequisites": ["C"]}, "prerequisites"),
    ({"prerequisites": [""]}, "prerequisites"),
    ({"prerequisites": ["X" * 21]}, "prerequisites"),
    ({"prerequisites": [101]}, "prerequisites"),
    ({"prerequisites": [None]}, "prerequisites"),
    ({"prerequisites": [["CS 101"]]}, "prerequisites"),
    ({"prerequisites": [{"code": "CS 101"}]}, "prerequisites"),
    ({"prerequisites": [f"CS {number}" for number in range(21)]}, "prerequisites"),
    ({"prerequisites": [f"CS {number}" for number in range(1000)]}, "prerequisites"),
]


class TestBadInput:
    @pytest.mark.parametrize(("overrides", "field"), BAD_INPUT)
    def test_creating_with_it_is_a_field_error(self, instructor, overrides, field):
        response = instructor.client.post("/api/courses", course_body(**overrides), format="json")
        assert response.status_code == 400, response.content
        assert response["Content-Type"] == "application/json"
        assert list(response.json()) == [field]

    @pytest.mark.parametrize(("overrides", "field"), BAD_INPUT)
    def test_patching_with_it_is_a_field_error_and_changes_nothing(self, instructor, make_course, overrides, field):
        course = make_course(meetings=[MONDAY_NINE], prerequisites=["CS 1"])
        response = instructor.client.patch(f"/api/courses/{course.course_id}", overrides, format="json")
        assert response.status_code == 400, response.content
        assert list(response.json()) == [field]
        stored = Course.get(course.course_id, consistent_read=True)
        assert (stored.meetings, stored.prerequisites, stored.revision) == ([MONDAY_NINE], ["CS 1"], course.revision)

    def test_a_bad_meeting_is_named_by_its_position_and_field(self, instructor):
        meetings = [MONDAY_NINE, meeting(["TUE"], "10:00", "09:00"), meeting(["WED"], "9:00", "10:00")]
        response = instructor.client.post("/api/courses", course_body(meetings=meetings), format="json")
        assert response.json() == {
            "meetings": {
                "1": {"end": ["Must be after start."]},
                "2": {"start": ["Use HH:MM on the 24-hour clock, like 09:00 or 17:30."]},
            }
        }

    def test_a_bad_code_is_named_by_its_position(self, instructor):
        response = instructor.client.post("/api/courses", course_body(prerequisites=["CS 1", 101]), format="json")
        assert response.json() == {"prerequisites": {"1": ["Must be a string."]}}

    def test_ten_thousand_meetings_are_refused_without_reading_one(self, instructor):
        # As many as fit the body limit: refused on their number, not item by item.
        response = instructor.client.post("/api/courses", course_body(meetings=[{}] * 10_000), format="json")
        assert response.json() == {
            "meetings": {"non_field_errors": ["Ensure this field has no more than 10 elements."]}
        }
        # Ten thousand whole meetings are over the body limit (DATA_UPLOAD_MAX_MEMORY_SIZE): still JSON, never a 500.
        too_large = instructor.client.post("/api/courses", course_body(meetings=[MONDAY_NINE] * 10_000), format="json")
        assert too_large.status_code == 413
        assert too_large.json()["code"] == "request_too_large"

    def test_ten_thousand_days_in_a_meeting_get_one_message(self, instructor):
        meetings = [meeting(["XXX"] * 10_000, "09:00", "10:00")]
        response = instructor.client.post("/api/courses", course_body(meetings=meetings), format="json")
        assert response.json() == {"meetings": {"0": {"days": ["Ensure this field has no more than 7 elements."]}}}


class TestCreditsAndMeetingsUnderEnrolledStudents:
    @pytest.mark.parametrize(
        "changes", [{"credits": 4}, {"meetings": [TUESDAY_NINE]}, {"credits": 4, "title": "Renamed too"}]
    )
    def test_the_instructor_cannot_change_them_once_registration_opened(
        self, instructor, student, make_course, changes
    ):
        course = make_course(meetings=[MONDAY_NINE])
        assert enroll(student, course).status_code == 201
        response = instructor.client.patch(f"/api/courses/{course.course_id}", changes, format="json")
        assert response.status_code == 409
        body = response.json()
        assert (body["code"], body["enrolled_count"]) == ("course_has_enrollments", 1)
        assert "only an admin" in body["detail"]
        stored = Course.get(course.course_id, consistent_read=True)
        assert (stored.credits, stored.meetings, stored.title) == (3, [MONDAY_NINE], course.title)

    def test_other_fields_and_unchanged_values_stay_the_instructors(self, instructor, student, make_course):
        course = make_course(meetings=[MONDAY_NINE])
        assert enroll(student, course).status_code == 201
        changes = {
            "title": "Renamed",
            "prerequisites": ["CS 1"],
            "capacity": 50,
            "credits": 3,
            "meetings": [MONDAY_NINE],
        }
        response = instructor.client.patch(f"/api/courses/{course.course_id}", changes, format="json")
        assert response.status_code == 200
        assert (response.json()["title"], response.json()["capacity"]) == ("Renamed", 50)

    def test_a_course_whose_students_all_dropped_is_the_instructors_again(self, instructor, student, make_course):
        course = make_course()
        assert enroll(student, course).status_code == 201
        assert student.client.delete(f"/api/enrollments/{course.course_id}").status_code == 204
        response = instructor.client.patch(f"/api/courses/{course.course_id}", {"credits": 4}, format="json")
        assert response.json()["credits"] == 4

    def test_until_registration_opens_the_instructor_may_and_schedules_follow(
        self, admin, instructor, student, make_course
    ):
        semester_id = open_semester(
            registration_opens_at=OPENS_AT,
            add_deadline=OPENS_AT + timedelta(days=14),
            drop_deadline=OPENS_AT + timedelta(days=30),
        )
        course = make_course(semester_id=semester_id)
        enrollment_services.enroll(
            actor=admin.actor, course_id=course.course_id, student_id=student.user_id, override_reason="early"
        )
        with time_machine.travel(OPENS_AT - timedelta(microseconds=1), tick=False):
            before = authenticated_client(instructor.user).patch(
                f"/api/courses/{course.course_id}", {"credits": 4}, format="json"
            )
        assert before.status_code == 200
        assert Schedule.get(student.user_id, semester_id, consistent_read=True).enrolled_credits == 4
        with time_machine.travel(OPENS_AT, tick=False):
            at_opening = authenticated_client(instructor.user).patch(
                f"/api/courses/{course.course_id}", {"credits": 5}, format="json"
            )
        assert (at_opening.status_code, at_opening.json()["code"]) == (409, "course_has_enrollments")

    def test_an_admin_always_may_and_the_change_is_audited(self, admin, student, make_course):
        course = make_course(meetings=[MONDAY_NINE])
        assert enroll(student, course).status_code == 201
        changes = {"credits": 4, "meetings": [TUESDAY_NINE]}
        response = admin.client.patch(f"/api/courses/{course.course_id}", changes, format="json")
        assert response.status_code == 200
        [record] = [
            record
            for record in AuditRecord.by_entity.query(entity_key_for("course", course.course_id))
            if record.action == "updated"
        ]
        assert record.actor_id == admin.user_id
        assert (record.before["credits"], record.before["meetings"]) == (3, [MONDAY_NINE])
        assert (record.after["credits"], record.after["meetings"]) == (4, [TUESDAY_NINE])


class TestSchedulesFollowAnAdminsChange:
    def test_every_enrolled_students_schedule_holds_the_new_values(self, admin, make_person, make_course):
        semester_id = open_semester()
        course = make_course(semester_id=semester_id, credits=3, meetings=[MONDAY_NINE])
        enrolled, dropped = [make_person(), make_person()], make_person()
        for person in [*enrolled, dropped]:
            assert enroll(person, course).status_code == 201
        assert dropped.client.delete(f"/api/enrollments/{course.course_id}").status_code == 204
        assert enrolled[0].client.get("/api/enrollments/me").json()["credits_by_semester"] == {str(semester_id): 3}

        changes = {"credits": 5, "meetings": [TUESDAY_NINE]}
        assert admin.client.patch(f"/api/courses/{course.course_id}", changes, format="json").status_code == 200

        for person in enrolled:
            schedule = Schedule.get(person.user_id, semester_id, consistent_read=True)
            assert schedule.courses[course.course_id] == {
                "course_code": course.course_code,
                "credits": 5,
                "meetings": [TUESDAY_NINE],
            }
            assert schedule.enrolled_credits == 5
        dropped_schedule = Schedule.get(dropped.user_id, semester_id, consistent_read=True)
        assert (dropped_schedule.courses, dropped_schedule.enrolled_credits) == ({}, 0)
        # The cached page of enrollments carries the new total at once.
        assert enrolled[0].client.get("/api/enrollments/me").json()["credits_by_semester"] == {str(semester_id): 5}

    def test_the_credit_limit_and_conflicts_count_the_new_values(self, admin, student, make_course):
        semester_id = open_semester(credit_limit=6)
        course = make_course(semester_id=semester_id, credits=3, meetings=[MONDAY_NINE])
        assert enroll(student, course).status_code == 201
        changes = {"credits": 5, "meetings": [TUESDAY_NINE]}
        assert admin.client.patch(f"/api/courses/{course.course_id}", changes, format="json").status_code == 200

        overlapping = make_course(semester_id=semester_id, credits=1, meetings=[meeting(["TUE"], "09:30", "10:30")])
        conflict = enroll(student, overlapping).json()
        assert (conflict["code"], conflict["conflicting_course_id"]) == ("time_conflict", course.course_id)
        too_many = enroll(student, make_course(semester_id=semester_id, credits=2)).json()
        assert (too_many["code"], too_many["enrolled_credits"], too_many["credit_limit"]) == (
            "credit_limit_exceeded",
            5,
            6,
        )
        freed_slot = make_course(semester_id=semester_id, credits=1, meetings=[MONDAY_NINE])
        assert enroll(student, freed_slot).status_code == 201
