"""The registration rules in the admin: enrolling a student (the rules apply, their refusal named on
the form, an override with a reason passes them but never capacity), completions on a course's
roster, transfer credit, and a student's page (schedules, credits, transcript, overrides).

The clock is moved with time-machine, never waited for; a signed-in session does not survive a jump
of months, so the admin signs in again inside the jump.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.models import Role
from audit.models import RULES_OVERRIDDEN, TRANSCRIPT_RECORDED, AuditRecord, entity_key_for
from courseproject.adminsite.times import university_time
from enrollments import services as enrollment_services
from enrollments.models import Enrollment, Transcript, enrollment_id_for
from tests.admin.helpers import AUDIT, COURSES, ENROLLMENTS, messages_of, signed_in, text
from tests.conftest import authenticated_client, open_semester
from tests.registration import DROP_DEADLINE, DURING_REGISTRATION, meeting, windowed_semester

ENROLL = f"{ENROLLMENTS}enroll/"


def status_of(student, course) -> str | None:
    enrollment_id = enrollment_id_for(user_id=student.user_id, course_id=course.course_id)
    try:
        return Enrollment.get(enrollment_id, consistent_read=True).status
    except Enrollment.DoesNotExist:
        return None


def is_enrolled(student, course) -> bool:
    return status_of(student, course) == "enrolled"


def enroll_form(student, course, **fields) -> dict:
    return {"student": student.user.email, "course": course.course_id, **fields}


def refusal(response) -> str:
    assert response.status_code == 200, "a refused enroll stays on the form"
    return " ".join(str(error) for error in response.context["form"].non_field_errors())


class TestEnrollAStudent:
    def test_enrolls_through_the_rules_and_returns_to_the_roster(self, admin_client, student, make_course):
        course = make_course(title="Admitted")
        page = admin_client.get(ENROLL, {"course": course.course_id})
        assert page.status_code == 200
        assert "Override the registration rules" in text(page)
        assert "Admitted" in text(page)  # the course it was opened for, above the form
        response = admin_client.post(f"{ENROLL}?course={course.course_id}", enroll_form(student, course), follow=True)
        assert any(f"was enrolled in {course.course_code} Admitted" in message for message in messages_of(response))
        assert response.redirect_chain[-1][0] == f"{ENROLLMENTS}?course={course.course_id}"
        assert is_enrolled(student, course)

    def test_the_roster_and_a_students_list_link_to_it(self, admin_client, student, make_course):
        course = make_course()
        roster = text(admin_client.get(ENROLLMENTS, {"course": course.course_id}))
        assert f"{ENROLL}?course={course.course_id}" in roster
        assert f"/admin/courses/course/{course.course_id}/completions/" in roster
        mine = text(admin_client.get(ENROLLMENTS, {"student": student.user.email}))
        assert f"{ENROLL}?student={student.user_id}" in mine
        assert f"/admin/enrollments/student/{student.user_id}/" in mine

    def test_a_time_conflict_is_named_with_the_course_it_conflicts_with(self, admin_client, student, make_course):
        semester_id = open_semester()
        held = make_course(semester_id=semester_id, title="Held", meetings=[meeting(["MON"], "09:00", "10:00")])
        enrollment_services.enroll(actor=student.actor, course_id=held.course_id)
        clashing = make_course(semester_id=semester_id, meetings=[meeting(["MON"], "09:30", "10:30")])
        message = refusal(admin_client.post(ENROLL, enroll_form(student, clashing)))
        assert message.startswith("Time conflict: ")
        assert f"{held.course_code} Held" in message
        assert "tick “Override the registration rules”" in message
        assert not is_enrolled(student, clashing)

    def test_the_credit_limit_names_the_totals(self, admin_client, student, make_course):
        semester_id = open_semester(credit_limit=4)
        enrollment_services.enroll(
            actor=student.actor, course_id=make_course(semester_id=semester_id, credits=3).course_id
        )
        message = refusal(admin_client.post(ENROLL, enroll_form(student, make_course(semester_id=semester_id))))
        assert message.startswith("Credit limit: The student has 3 credits this semester")
        assert "the limit of 4" in message

    def test_missing_prerequisites_are_named(self, admin_client, student, make_course):
        course = make_course(prerequisites=["ZZ 100", "ZZ 200"])
        message = refusal(admin_client.post(ENROLL, enroll_form(student, course)))
        assert message.startswith("Prerequisites: ")
        assert "ZZ 100, ZZ 200" in message

    def test_a_closed_window_is_shown_on_the_universitys_clock(self, admin_client, student, make_course, settings):
        settings.UNIVERSITY_TIME_ZONE = "America/New_York"
        course = make_course(semester_id=windowed_semester())
        message = refusal(admin_client.post(ENROLL, enroll_form(student, course)))
        # 14:00 UTC on 2 March is 09:00 EST; 23:59:59 UTC on 20 March is 19:59:59 EDT (after the switch).
        assert "Registration window: Registration is open from 2031-03-02 09:00 EST" in message
        assert "add deadline, 2031-03-20 19:59:59 EDT" in message

    def test_an_override_needs_a_reason(self, admin_client, student, make_course):
        course = make_course(prerequisites=["ZZ 100"])
        response = admin_client.post(ENROLL, enroll_form(student, course, override_rules="on", override_reason="  "))
        assert "override_reason" in response.context["form"].errors
        assert not is_enrolled(student, course)

    def test_an_override_passes_the_rules_and_the_audit_log_keeps_the_reason(
        self, admin_client, admin, student, make_course
    ):
        course = make_course(semester_id=windowed_semester(), prerequisites=["ZZ 100"], title="Past The Rules")
        reason = "Registrar approved: <prerequisite> taken abroad"
        response = admin_client.post(
            ENROLL, enroll_form(student, course, override_rules="on", override_reason=reason), follow=True
        )
        assert any("past the registration rules" in message for message in messages_of(response))
        assert is_enrolled(student, course)
        enrollment_id = enrollment_id_for(user_id=student.user_id, course_id=course.course_id)
        [record] = AuditRecord.by_entity.query(entity_key_for("enrollment", enrollment_id))
        assert (record.actor_id, record.after["override_reason"]) == (admin.user_id, reason)
        [override] = AuditRecord.by_entity.query(
            entity_key_for("user", student.user_id), filter_condition=AuditRecord.action == RULES_OVERRIDDEN
        )
        assert override.after["course_id"] == course.course_id
        # Shown, escaped, in the audit log's list and on the student's page.
        escaped = "Registrar approved: &lt;prerequisite&gt; taken abroad"
        assert escaped in text(admin_client.get(AUDIT, {"entity": f"enrollment:{enrollment_id}"}))
        page = text(admin_client.get(f"/admin/enrollments/student/{student.user_id}/"))
        assert escaped in page
        assert f"{course.course_code} Past The Rules" in page

    def test_an_override_never_passes_capacity(self, admin_client, make_person, make_course):
        course = make_course(capacity=1, prerequisites=["ZZ 100"])
        first, second = make_person(), make_person()
        admin_client.post(ENROLL, enroll_form(first, course, override_rules="on", override_reason="Seat one"))
        assert is_enrolled(first, course)
        response = admin_client.post(ENROLL, enroll_form(second, course, override_rules="on", override_reason="Two"))
        assert refusal(response).startswith("The course is full. No override passes capacity")
        assert not is_enrolled(second, course)

    def test_enrolling_again_says_so(self, admin_client, student, make_course):
        course = make_course()
        enrollment_services.enroll(actor=student.actor, course_id=course.course_id)
        response = admin_client.post(ENROLL, enroll_form(student, course), follow=True)
        assert any("is already enrolled in" in message for message in messages_of(response))

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"student": "nobody@example.edu"}, "student"),
            ({"course": "0" * 32}, "course"),
            ({"course": "not/an id"}, "course"),
            ({"student": "é" * 300}, "student"),
        ],
    )
    def test_bad_input_is_named_on_its_field(self, admin_client, student, make_course, fields, field):
        response = admin_client.post(ENROLL, enroll_form(student, make_course()) | fields)
        assert response.status_code == 200
        assert field in response.context["form"].errors

    def test_only_students_are_enrolled(self, admin_client, make_person, make_course):
        instructor = make_person(Role.INSTRUCTOR)
        response = admin_client.post(ENROLL, enroll_form(instructor, make_course()))
        assert "is not a student" in str(response.context["form"].errors["student"])


class TestCompletionsOnTheRoster:
    def test_refused_until_the_drop_deadline_has_passed(self, admin, student, make_course):
        course = make_course(semester_id=windowed_semester())
        with time_machine.travel(DURING_REGISTRATION, tick=False):
            enrollment_services.enroll(actor=student.actor, course_id=course.course_id)
        url = f"{COURSES}{course.course_id}/completions/"
        with time_machine.travel(DROP_DEADLINE, tick=False):
            client = signed_in(admin)
            assert "Completions are recorded once the semester" in text(client.get(url))
            refused = client.post(url, {"_all": "1"}, follow=True)
            assert any("drop deadline has passed" in message for message in messages_of(refused))
            assert status_of(student, course) == "enrolled"
        with time_machine.travel(DROP_DEADLINE + timedelta(microseconds=1), tick=False):
            response = signed_in(admin).post(url, {"_all": "1"}, follow=True)
            assert "1 completed, 0 already completed, 0 not enrolled" in " ".join(messages_of(response))
        assert status_of(student, course) == "completed"

    def test_completes_the_selected_students_then_all(self, admin, make_person, make_course):
        course = make_course(semester_id=windowed_semester())
        first, second = make_person(), make_person()
        with time_machine.travel(DURING_REGISTRATION, tick=False):
            for person in (first, second):
                enrollment_services.enroll(actor=person.actor, course_id=course.course_id)
        url = f"{COURSES}{course.course_id}/completions/"
        with time_machine.travel(DROP_DEADLINE + timedelta(days=1), tick=False):
            client = signed_in(admin)
            page = text(client.get(url))
            assert first.user.email in page and second.user.email in page
            client.post(url, {"_selected": "1", "student": [first.user_id]})
            assert (status_of(first, course), status_of(second, course)) == ("completed", "enrolled")
            response = client.post(url, {"_all": "1"}, follow=True)
            assert "1 completed, 1 already completed" in " ".join(messages_of(response))
            assert status_of(second, course) == "completed"
            nothing = client.post(url, {"_selected": "1"}, follow=True)
            assert any("Tick the students" in message for message in messages_of(nothing))

    def test_the_course_page_links_to_it(self, admin_client, make_course):
        course = make_course()
        change = text(admin_client.get(f"{COURSES}{course.course_id}/change/"))
        assert f"{COURSES}{course.course_id}/completions/" in change


class TestTransferCredit:
    def test_records_transfer_credit_that_satisfies_prerequisites(self, admin_client, admin, student, make_course):
        make_course(course_code="TR 101")
        url = f"/admin/enrollments/student/{student.user_id}/transfer-credit/"
        response = admin_client.post(url, {"course_code": "tr 101"}, follow=True)
        assert any("Transfer credit for TR 101 was recorded" in message for message in messages_of(response))
        assert Transcript.get(student.user_id, consistent_read=True).entries == {"TR 101#0": "completed"}
        [record] = AuditRecord.by_entity.query(
            entity_key_for("user", student.user_id), filter_condition=AuditRecord.action == TRANSCRIPT_RECORDED
        )
        assert (record.actor_id, record.after) == (
            admin.user_id,
            {"source": "transfer_credit", "courses": [{"course_code": "TR 101", "semester_id": 0}]},
        )
        page = text(admin_client.get(f"/admin/enrollments/student/{student.user_id}/"))
        assert "TR 101" in page and "Transfer credit" in page
        advanced = make_course(prerequisites=["TR 101"])
        enrolled = authenticated_client(student.user).post(
            "/api/enrollments", {"course_id": advanced.course_id}, format="json"
        )
        assert enrolled.status_code == 201

    @pytest.mark.parametrize(("code", "error"), [("NO 404", "No course in any semester"), ("!!", "Use 2 to 20")])
    def test_an_unknown_or_malformed_code_is_refused_on_the_field(self, admin_client, student, code, error):
        url = f"/admin/enrollments/student/{student.user_id}/transfer-credit/"
        response = admin_client.post(url, {"course_code": code})
        assert error in str(response.context["form"].errors["course_code"])


class TestStudentPage:
    def test_shows_schedules_with_credits_meetings_transcript_and_overrides(
        self, admin_client, student, make_course, dynamodb_calls
    ):
        semester_id = open_semester(credit_limit=12)
        course = make_course(
            semester_id=semester_id,
            credits=4,
            title="Scheduled",
            meetings=[meeting(["MON", "WED"], "09:00", "10:15")],
        )
        enrollment_services.enroll(actor=student.actor, course_id=course.course_id)
        dynamodb_calls.clear()
        response = admin_client.get(f"/admin/enrollments/student/{student.user_id}/")
        page = text(response)
        assert f"{course.course_code} Scheduled" in page
        assert "MON WED 09:00-10:15" in page
        assert "4 of 12 credits" in page
        assert response.context["in_progress"] == [(course.course_code, f"Semester {semester_id}")]
        assert response.context["completed"] == []
        assert "No overrides" in page
        assert dynamodb_calls.count("Query") <= 2  # the schedules, the overrides
        assert dynamodb_calls.count("Scan") == 0

    def test_a_student_with_no_schedule_yet(self, admin_client, student):
        page = text(admin_client.get(f"/admin/enrollments/student/{student.user_id}/"))
        assert "No schedule yet" in page

    def test_someone_not_a_student_is_explained(self, admin_client, instructor):
        response = admin_client.get(f"/admin/enrollments/student/{instructor.user_id}/", follow=True)
        assert any("No student has the id" in message for message in messages_of(response))

    def test_is_for_admins_only(self, student):
        response = authenticated_client(student.user).get(f"/admin/enrollments/student/{student.user_id}/")
        assert response.status_code == 302


def test_times_are_shown_in_the_universitys_zone(settings):
    settings.UNIVERSITY_TIME_ZONE = "America/New_York"
    assert university_time(datetime(2031, 3, 9, 6, 59, tzinfo=UTC)) == "2031-03-09 01:59 EST"
    assert university_time("2031-03-09T07:00:00.000000Z") == "2031-03-09 03:00 EDT"
    assert university_time(timezone.now()).endswith(("EST", "EDT"))
