"""What enroll, drop and completions keep beside the enrollment: completions after the drop deadline,
each semester's credit totals, an admin's override with its reason, and an enroll whose course's
rules changed between its read and its write (reads again).

The clock is moved with time-machine, never waited for. Concurrency across server processes is in
tests/e2e/test_registration_races.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from accounts.models import Role
from audit.models import AuditRecord, entity_key_for
from courses import services as course_services
from enrollments import services as enrollment_services
from enrollments.completions import record_in_transcript
from enrollments.models import Schedule, Transcript, transcript_key
from enrollments.records import condition_failed
from tests.conftest import open_semester
from tests.registration import (
    DROP_DEADLINE,
    DURING_REGISTRATION,
    client_of,
    enroll,
    windowed_semester,
)


class TestCompletions:
    def test_only_after_the_drop_deadline_and_only_the_instructor_or_an_admin(
        self, instructor, make_person, make_course
    ):
        course = make_course(semester_id=windowed_semester())
        students = [make_person() for _ in range(3)]
        with time_machine.travel(DURING_REGISTRATION, tick=False):
            for person in students:
                assert enroll(person, course).status_code == 201
            early = client_of(instructor).post(
                f"/api/courses/{course.course_id}/completions", {"all": True}, format="json"
            )
        assert (early.status_code, early.json()["code"]) == (409, "drop_deadline_not_passed")
        with time_machine.travel(DROP_DEADLINE + timedelta(days=1), tick=False):
            other = make_person(Role.INSTRUCTOR)
            url = f"/api/courses/{course.course_id}/completions"
            assert client_of(other).post(url, {"all": True}, format="json").status_code == 403
            assert client_of(students[0]).post(url, {"all": True}, format="json").status_code == 403
            some = client_of(instructor).post(url, {"user_ids": [students[0].user_id, "nobody"]}, format="json")
            assert some.status_code == 200
            assert some.json() == {
                "completed": [students[0].user_id],
                "already_completed": [],
                "not_enrolled": ["nobody"],
            }
            rest = client_of(instructor).post(url, {"all": True}, format="json").json()
        assert sorted(rest["completed"]) == sorted(person.user_id for person in students[1:])
        assert rest["already_completed"] == [students[0].user_id]
        assert students[1].client.get(f"/api/enrollments/{course.course_id}").json()["status"] == "completed"

    @pytest.mark.parametrize("body", [{}, {"all": False}, {"all": True, "user_ids": ["a"]}, {"user_ids": []}])
    def test_the_request_names_students_or_all(self, admin, make_course, body):
        response = admin.client.post(f"/api/courses/{make_course().course_id}/completions", body, format="json")
        assert response.status_code == 400


class TestCreditTotalsAndOverrides:
    def test_my_enrollments_carries_each_semesters_credits(self, student, make_course):
        first, second = open_semester(), open_semester()
        enroll(student, make_course(semester_id=first, credits=3))
        enroll(student, make_course(semester_id=first, credits=4))
        enroll(student, make_course(semester_id=second, credits=2))
        page = student.client.get("/api/enrollments/me").json()
        assert page["credits_by_semester"] == {str(first): 7, str(second): 2}
        assert Schedule.get(student.user_id, first, consistent_read=True).enrolled_credits == 7

    def test_an_admin_override_passes_the_rules_never_the_seat_and_is_audited(self, admin, make_person, make_course):
        course = make_course(semester_id=windowed_semester(), capacity=1, prerequisites=["NOPE 2"])
        student = make_person()
        with pytest.raises(Exception, match="reason"):
            enrollment_services.enroll(
                actor=admin.actor, course_id=course.course_id, student_id=student.user_id, override_reason=" "
            )
        result = enrollment_services.enroll(
            actor=admin.actor,
            course_id=course.course_id,
            student_id=student.user_id,
            override_reason="Registrar approved: prerequisite taken abroad",
        )
        assert result.created
        [record] = list(AuditRecord.by_entity.query(entity_key_for("enrollment", result.enrollment.enrollment_id)))
        assert record.after["override_reason"] == "Registrar approved: prerequisite taken abroad"
        assert record.actor_id == admin.user_id
        with pytest.raises(Exception, match="full"):
            enrollment_services.enroll(
                actor=admin.actor, course_id=course.course_id, student_id=make_person().user_id, override_reason="x"
            )


class TestRulesChangingUnderAnEnroll:
    def test_an_enroll_checked_against_old_credits_reads_them_again(self, admin, student, make_course, monkeypatch):
        """An admin raises the course's credits between the enroll's read and its transaction: the
        transaction is refused (the course's rules_revision moved) and the rules see the new credits."""
        semester_id = open_semester(credit_limit=4)
        course = make_course(semester_id=semester_id, credits=3)
        read_for_real = enrollment_services.read_student_records
        raised = []

        def read_then_raise_the_credits(**kwargs):
            records = read_for_real(**kwargs)
            if not raised:
                raised.append(True)
                course_services.update_course(actor=admin.actor, course_id=course.course_id, changes={"credits": 5})
            return records

        monkeypatch.setattr(enrollment_services, "read_student_records", read_then_raise_the_credits)
        response = enroll(student, course)
        assert response.status_code == 409
        assert (response.json()["code"], response.json()["enrolled_credits"]) == ("credit_limit_exceeded", 0)


class TestCoursesKnownByTheirCode:
    def test_a_course_with_enrolled_students_cannot_be_renamed_even_by_an_admin(self, admin, student, make_course):
        course = make_course()
        assert enroll(student, course).status_code == 201
        renamed = admin.client.patch(f"/api/courses/{course.course_id}", {"course_code": "NEW 1"}, format="json")
        assert (renamed.status_code, renamed.json()["code"]) == (409, "course_has_enrollments")
        kept = admin.client.patch(f"/api/courses/{course.course_id}", {"title": "Still fine"}, format="json")
        assert kept.status_code == 200

    def test_a_recorded_completion_survives_an_enrollment_in_the_same_course_and_its_drop(
        self, admin, student, make_course
    ):
        semester_id = open_semester()
        course = make_course(semester_id=semester_id)
        key = transcript_key(course_code=course.course_code, semester_id=semester_id)
        record_in_transcript(user_id=student.user_id, entries={key: "completed"})  # an imported history
        assert enroll(student, course).status_code == 201
        assert Transcript.get(student.user_id, consistent_read=True).entries[key] == "completed"
        assert client_of(student).delete(f"/api/enrollments/{course.course_id}").status_code == 204
        assert Transcript.get(student.user_id, consistent_read=True).entries[key] == "completed"


def test_a_transaction_refused_without_reasons_is_not_read_as_a_failed_condition():
    assert condition_failed([], -1) is None
    assert condition_failed([], 0) is None
