"""Enroll's registration rules, one at a time and in the contract's order: the window, prerequisites,
time conflicts, the credit limit, then the seat; drop's deadline. Completions, credit totals,
overrides and rules changing under an enroll: test_enrollment_records.py.

The clock is moved with time-machine, never waited for. Concurrency across server processes is in
tests/e2e/test_registration_races.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine

from enrollments import completions
from enrollments import services as enrollment_services
from semesters.models import Semester
from tests.conftest import open_semester, when_cached
from tests.registration import (
    ADD_DEADLINE,
    DROP_DEADLINE,
    DURING_REGISTRATION,
    OPENS_AT,
    client_of,
    enroll,
    meeting,
    windowed_semester,
)


class TestRegistrationWindow:
    def test_registration_opens_at_its_exact_instant(self, student, make_course):
        course = make_course(semester_id=windowed_semester())
        with time_machine.travel(OPENS_AT - timedelta(microseconds=1), tick=False):
            refused = enroll(student, course)
        assert refused.status_code == 409
        assert refused.json() == {
            "detail": refused.json()["detail"],
            "code": "registration_closed",
            "registration_opens_at": "2031-03-02T14:00:00.000000Z",
            "add_deadline": "2031-03-20T23:59:59.000000Z",
        }
        with time_machine.travel(OPENS_AT, tick=False):
            assert enroll(student, course).status_code == 201

    def test_one_microsecond_past_the_add_deadline_is_closed(self, make_person, make_course):
        course = make_course(semester_id=windowed_semester())
        with time_machine.travel(ADD_DEADLINE, tick=False):
            assert enroll(make_person(), course).status_code == 201
        with time_machine.travel(ADD_DEADLINE + timedelta(microseconds=1), tick=False):
            late = enroll(make_person(), course)
        assert (late.status_code, late.json()["code"]) == (409, "registration_closed")

    def test_a_semester_without_a_record_is_closed(self, student, make_course):
        course = make_course()
        Semester(semester_id=course.semester_id).delete()
        response = enroll(student, course)
        assert response.status_code == 409
        assert response.json()["code"] == "registration_closed"
        assert response.json()["registration_opens_at"] is None

    def test_an_existing_enrollment_answers_200_whatever_the_rules_say_now(self, student, make_course):
        course = make_course(semester_id=windowed_semester())
        with time_machine.travel(DURING_REGISTRATION, tick=False):
            assert enroll(student, course).status_code == 201
        with time_machine.travel(ADD_DEADLINE + timedelta(days=3), tick=False):
            retried = enroll(student, course)
        assert retried.status_code == 200
        assert retried.json()["status"] == "enrolled"

    def test_a_rule_change_applies_to_the_next_enroll(self, admin, student, make_course):
        semester_id = open_semester()
        course = make_course(semester_id=semester_id)
        future = (datetime.now(UTC) + timedelta(days=2)).isoformat()
        changed = admin.client.patch(f"/api/semesters/{semester_id}", {"registration_opens_at": future}, format="json")
        assert changed.status_code == 200, changed.content
        assert enroll(student, course).json()["code"] == "registration_closed"


class TestPrerequisites:
    def test_a_missing_prerequisite_is_named(self, student, make_course):
        course = make_course(prerequisites=["CS 101", "MATH 200"])
        response = enroll(student, course)
        assert response.status_code == 409
        assert response.json()["code"] == "prerequisites_missing"
        assert response.json()["missing_prerequisites"] == ["CS 101", "MATH 200"]

    def test_enrolled_in_an_earlier_semester_counts_in_the_same_semester_does_not(self, student, make_course):
        earlier, later = sorted([open_semester(), open_semester()])
        intro = make_course(course_code="CS 101", semester_id=earlier)
        assert enroll(student, intro).status_code == 201
        same_semester = make_course(semester_id=earlier, prerequisites=["CS 101"])
        assert enroll(student, same_semester).json()["missing_prerequisites"] == ["CS 101"]
        advanced = make_course(semester_id=later, prerequisites=["CS 101"])
        assert enroll(student, advanced).status_code == 201

    def test_dropping_the_prerequisite_takes_it_back(self, student, make_course):
        earlier, later = sorted([open_semester(), open_semester()])
        intro = make_course(course_code="CS 102", semester_id=earlier)
        enroll(student, intro)
        assert student.client.delete(f"/api/enrollments/{intro.course_id}").status_code == 204
        advanced = make_course(semester_id=later, prerequisites=["CS 102"])
        assert enroll(student, advanced).json()["code"] == "prerequisites_missing"

    def test_a_completed_course_and_transfer_credit_satisfy_prerequisites(self, admin, student, make_course):
        with time_machine.travel(DURING_REGISTRATION, tick=False):
            earlier = windowed_semester()
            intro = make_course(course_code="CS 103", semester_id=earlier)
            assert enroll(student, intro).status_code == 201
        with time_machine.travel(DROP_DEADLINE + timedelta(days=1), tick=False):
            result = completions.complete_course(actor=admin.actor, course_id=intro.course_id, user_ids=None)
        assert result.completed == [student.user_id]
        completions.record_transfer_credit(actor=admin.actor, user_id=student.user_id, course_code="PHYS 150")
        later = open_semester(semester_id=earlier + 1)
        advanced = make_course(semester_id=later, prerequisites=["CS 103", "PHYS 150"])
        assert enroll(student, advanced).status_code == 201


class TestTimeConflicts:
    def test_overlapping_meetings_name_the_conflicting_course(self, student, make_course):
        semester_id = open_semester()
        first = make_course(semester_id=semester_id, meetings=[meeting(["MON", "WED"], "09:00", "10:00")])
        assert enroll(student, first).status_code == 201
        overlapping = make_course(semester_id=semester_id, meetings=[meeting(["WED"], "09:30", "10:30")])
        response = enroll(student, overlapping)
        assert response.status_code == 409
        assert response.json()["code"] == "time_conflict"
        assert response.json()["conflicting_course_id"] == first.course_id

    def test_a_meeting_ending_at_ten_and_one_starting_at_ten_do_not_conflict(self, student, make_course):
        semester_id = open_semester()
        assert enroll(student, make_course(semester_id=semester_id, meetings=[meeting(["TUE"], "09:00", "10:00")]))
        after = make_course(semester_id=semester_id, meetings=[meeting(["TUE"], "10:00", "11:00")])
        other_day = make_course(semester_id=semester_id, meetings=[meeting(["THU"], "09:00", "10:00")])
        assert enroll(student, after).status_code == 201
        assert enroll(student, other_day).status_code == 201

    def test_courses_of_other_semesters_never_conflict(self, student, make_course):
        slot = [meeting(["FRI"], "13:00", "15:00")]
        assert enroll(student, make_course(semester_id=open_semester(), meetings=slot)).status_code == 201
        assert enroll(student, make_course(semester_id=open_semester(), meetings=slot)).status_code == 201


class TestCreditLimit:
    def test_the_course_that_would_pass_the_limit_is_refused_with_the_totals(self, student, make_course):
        semester_id = open_semester(credit_limit=6)
        for _ in range(2):
            assert enroll(student, make_course(semester_id=semester_id, credits=3)).status_code == 201
        response = enroll(student, make_course(semester_id=semester_id, credits=1))
        assert response.status_code == 409
        assert response.json()["code"] == "credit_limit_exceeded"
        assert (response.json()["credit_limit"], response.json()["enrolled_credits"]) == (6, 6)

    def test_a_drop_frees_its_credits(self, student, make_course):
        semester_id = open_semester(credit_limit=4)
        first = make_course(semester_id=semester_id, credits=4)
        second = make_course(semester_id=semester_id, credits=4)
        assert enroll(student, first).status_code == 201
        assert enroll(student, second).json()["code"] == "credit_limit_exceeded"
        assert student.client.delete(f"/api/enrollments/{first.course_id}").status_code == 204
        assert enroll(student, second).status_code == 201

    def test_lowering_the_limit_keeps_existing_enrollments(self, admin, student, make_course):
        semester_id = open_semester()
        course = make_course(semester_id=semester_id, credits=6)
        assert enroll(student, course).status_code == 201
        assert (
            admin.client.patch(f"/api/semesters/{semester_id}", {"credit_limit": 3}, format="json").status_code == 200
        )
        assert student.client.get(f"/api/enrollments/{course.course_id}").json()["status"] == "enrolled"
        assert (
            enroll(student, make_course(semester_id=semester_id, credits=1)).json()["code"] == "credit_limit_exceeded"
        )


class TestRuleOrder:
    def test_the_first_failing_rule_is_the_answer(self, student, make_course):
        semester_id = open_semester(credit_limit=3)
        held = make_course(semester_id=semester_id, credits=3, meetings=[meeting(["MON"], "08:00", "09:00")])
        assert enroll(student, held).status_code == 201
        breaks_all = make_course(
            semester_id=semester_id,
            credits=3,
            capacity=1,
            meetings=[meeting(["MON"], "08:30", "09:30")],
            prerequisites=["NOPE 1"],
        )
        assert enroll(student, breaks_all).json()["code"] == "prerequisites_missing"
        no_prerequisite = make_course(semester_id=semester_id, credits=3, meetings=[meeting(["MON"], "08:30", "09:30")])
        assert enroll(student, no_prerequisite).json()["code"] == "time_conflict"
        no_conflict = make_course(semester_id=semester_id, credits=3)
        assert enroll(student, no_conflict).json()["code"] == "credit_limit_exceeded"

    def test_a_full_course_comes_last(self, make_person, make_course):
        course = make_course(capacity=1)
        assert enroll(make_person(), course).status_code == 201
        assert enroll(make_person(), course).json()["code"] == "course_full"


class TestDropDeadline:
    def test_a_student_cannot_drop_after_the_deadline_an_admin_can(self, admin, student, make_course):
        course = make_course(semester_id=windowed_semester())
        with time_machine.travel(DURING_REGISTRATION, tick=False):
            assert enroll(student, course).status_code == 201
        with time_machine.travel(DROP_DEADLINE, tick=False):
            assert client_of(student).get(f"/api/enrollments/{course.course_id}").status_code == 200
        with time_machine.travel(DROP_DEADLINE + timedelta(microseconds=1), tick=False):
            late = client_of(student).delete(f"/api/enrollments/{course.course_id}")
            assert late.status_code == 409
            assert late.json()["code"] == "drop_deadline_passed"
            assert late.json()["drop_deadline"] == "2031-04-15T23:59:59.000000Z"
            enrollment_services.drop(actor=admin.actor, user_id=student.user_id, course_id=course.course_id)


class TestWhatEnrollCosts:
    def test_one_batch_get_for_the_rules_and_one_transaction(self, student, make_course, dynamodb_calls):
        course = make_course(meetings=[meeting(["MON"], "09:00", "10:00")])
        # As a student does before enrolling: the course, and the semester's registration window.
        student.client.get(f"/api/courses/{course.course_id}")
        student.client.get(f"/api/semesters/{course.semester_id}")
        dynamodb_calls.clear()
        assert enroll(student, course).status_code == 201
        # What the rules read (course, schedule, transcript, enrollment) in one BatchGetItem, the
        # semester from the cache; the writes in one transaction, then the seats read for the cache's
        # write-through. Without the cache, the token check reads the user, then the course (for its
        # semester) and the semester come from a GetItem each. What follows is the eager Celery tasks
        # of the tests (audit record, email), a worker's work in production.
        request_path = when_cached(
            ["BatchGetItem", "TransactWriteItems", "GetItem"],
            ["GetItem", "GetItem", "GetItem", "BatchGetItem", "TransactWriteItems"],
        )
        assert dynamodb_calls.operations[: len(request_path)] == request_path
        assert dynamodb_calls.count("BatchGetItem") == dynamodb_calls.count("TransactWriteItems") == 1

    def test_a_course_seen_full_is_refused_without_a_transaction(self, make_person, make_course, dynamodb_calls):
        course = make_course(capacity=1)
        assert enroll(make_person(), course).status_code == 201
        latecomer = make_person()
        dynamodb_calls.clear()
        refused = enroll(latecomer, course)
        assert (refused.status_code, refused.json()["code"]) == (409, "course_full")
        # The consistent read of the rules saw no seat: the answer a transaction would have given.
        assert dynamodb_calls.count("TransactWriteItems") == 0
