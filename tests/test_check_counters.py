"""manage.py check_counters: every counter that disagrees with the enrollment records is reported on a
line of its own and makes the command fail; --fix repairs each with a conditional write (a write
racing the repair wins), writes repaired seats through to the cache, and a second run is clean.

The data is made through the services, then corrupted directly, as only a bug or a hand edit would.
Each test's courses live in a semester of their own, and the command is narrowed to it (--semester).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from courseproject.caching import keys
from courseproject.caching.entities import forget
from courseproject.dynamo.client import observe_client_events
from courses.models import Course, waitlist_shard_of
from enrollments import counters
from enrollments import services as enrollment_services
from enrollments.models import Enrollment, EnrollmentStatus, Schedule, enrollment_id_for
from enrollments.records import schedule_entry
from tests.conftest import DynamoDBCalls, Person, unique_semester


@pytest.fixture(autouse=True)
def dynamodb_calls():
    """check_counters, an offline operator command, is the one reader allowed to Scan: this module
    replaces the suite's guard (conftest's fixture of this name) with a plain record of the calls."""
    calls = DynamoDBCalls(operations=[])
    unregister = observe_client_events("before-call.dynamodb", lambda model, **_: calls.operations.append(model.name))
    try:
        yield calls
    finally:
        unregister()


@dataclass
class Registration:
    """Alice holds the seminar's only seat and a lecture seat; Bob has a lecture seat and waits for the
    seminar; Carol enrolled in the lecture and dropped it."""

    semester_id: int
    seminar: Course
    lecture: Course
    alice: Person
    bob: Person
    carol: Person


@pytest.fixture
def registration(make_person, make_course) -> Registration:
    semester_id = unique_semester()
    seminar = make_course(semester_id=semester_id, capacity=1, credits=4)
    lecture = make_course(semester_id=semester_id, capacity=30, credits=3)
    alice, bob, carol = make_person(), make_person(), make_person()
    for person, course in ((alice, seminar), (alice, lecture), (bob, lecture), (carol, lecture)):
        enrollment_services.enroll(actor=person.actor, course_id=course.course_id)
    joined = enrollment_services.enroll(actor=bob.actor, course_id=seminar.course_id, waitlist=True)
    assert joined.enrollment.status == EnrollmentStatus.WAITLISTED
    enrollment_services.drop(actor=carol.actor, user_id=carol.user_id, course_id=lecture.course_id)
    return Registration(semester_id, seminar, lecture, alice, bob, carol)


def check_counters(registration: Registration, *arguments: str) -> tuple[list[str], str, CommandError | None]:
    """The lines about differences (sorted), the summary, and the error the command failed with."""
    output = io.StringIO()
    try:
        call_command("check_counters", "--semester", str(registration.semester_id), *arguments, stdout=output)
        error = None
    except CommandError as failure:
        error = failure
    *lines, summary = output.getvalue().splitlines()
    return sorted(lines), summary, error


def course(course: Course) -> Course:
    return Course.get(course.course_id, consistent_read=True)


def schedule(registration: Registration, person: Person) -> Schedule:
    return Schedule.get(person.user_id, registration.semester_id, consistent_read=True)


def corrupt(registration: Registration) -> list[str]:
    """Seven differences, as direct updates; returns the lines check_counters should print."""
    r = registration
    Course(r.lecture.course_id).update(actions=[Course.enrolled_count.set(5), Course.revision.add(1)])
    Course(r.seminar.course_id).update(actions=[Course.waitlisted_count.set(0), Course.revision.add(1)])
    Schedule(r.alice.user_id, r.semester_id).update(actions=[Schedule.enrolled_credits.set(99)])
    Schedule(r.bob.user_id, r.semester_id).update(actions=[Schedule.courses.set({}), Schedule.waitlists.set({})])
    Schedule(r.carol.user_id, r.semester_id).update(
        actions=[
            Schedule.courses.set({r.seminar.course_id: schedule_entry(r.seminar)}),
            Schedule.enrolled_credits.set(4),
        ]
    )
    lecture = f"course {r.lecture.course_id} ({r.lecture.course_code}, semester {r.semester_id})"
    seminar = f"course {r.seminar.course_id} ({r.seminar.course_code}, semester {r.semester_id})"
    alice, bob, carol = (f"schedule {person.user_id}/{r.semester_id}" for person in (r.alice, r.bob, r.carol))
    return sorted(
        [
            f"{lecture}: enrolled_count 5, enrolled or completed records 2",
            f"{seminar}: waitlisted_count 0, waitlisted records 1",
            f"{alice}: enrolled_credits 99, credits of its courses 7",
            f"{bob}: enrolled_credits 3, credits of its courses 0",
            f"{bob}: courses missing {r.lecture.course_id} (enrolled)",
            f"{bob}: waitlists missing {r.seminar.course_id} (waitlisted)",
            f"{carol}: courses extra {r.seminar.course_id} (not enrolled)",
        ]
    )


class TestChecking:
    def test_consistent_records_report_nothing_and_succeed(self, registration, dynamodb_calls):
        dynamodb_calls.clear()
        lines, summary, error = check_counters(registration)
        assert (lines, error) == ([], None)
        assert summary == "Checked 2 courses, 3 schedules, 5 enrollments: no differences."
        # One pass over each table: no Query or GetItem per course or student.
        assert set(dynamodb_calls.operations) == {"Scan"}

    def test_each_corrupted_counter_is_one_line_and_the_command_fails(self, registration):
        expected = corrupt(registration)
        lines, summary, error = check_counters(registration)
        assert lines == expected
        assert summary == "Checked 2 courses, 3 schedules, 5 enrollments: 7 differences (none fixed)."
        assert error is not None and error.returncode == 1
        assert "7 differences left; run with --fix" in str(error)

    def test_a_completed_enrollment_keeps_its_seat_and_its_schedule_entry(self, registration):
        Enrollment(
            enrollment_id_for(user_id=registration.alice.user_id, course_id=registration.lecture.course_id)
        ).update(actions=[Enrollment.status.set(EnrollmentStatus.COMPLETED.value)])
        assert check_counters(registration)[::2] == ([], None)


class TestFixing:
    def test_fix_repairs_every_difference_and_a_second_run_is_clean(self, registration):
        r = registration
        expected = corrupt(r)
        lecture_revision = int(course(r.lecture).revision)
        alice_version = int(schedule(r, r.alice).version)
        lines, summary, error = check_counters(r, "--fix")
        assert lines == [f"{line} -> fixed" for line in expected]
        assert summary.endswith(": 7 differences (7 fixed, 0 changed while checking).")
        assert error is None

        lecture, seminar = course(r.lecture), course(r.seminar)
        assert (int(lecture.enrolled_count), int(lecture.revision)) == (2, lecture_revision + 1)
        assert int(seminar.waitlisted_count) == 1
        assert seminar.waitlist_shard == waitlist_shard_of(r.seminar.course_id)
        alice = schedule(r, r.alice)
        assert (int(alice.enrolled_credits), int(alice.version)) == (7, alice_version + 1)
        assert set(alice.courses) == {r.seminar.course_id, r.lecture.course_id}
        bob = schedule(r, r.bob)
        assert bob.courses == {r.lecture.course_id: schedule_entry(r.lecture)}
        assert (set(bob.waitlists), int(bob.enrolled_credits)) == ({r.seminar.course_id}, 3)
        carol = schedule(r, r.carol)
        assert (carol.courses, int(carol.enrolled_credits)) == ({}, 0)

        assert check_counters(r)[::2] == ([], None)

    def test_a_repaired_course_shows_its_seats_at_once(self, registration):
        r = registration
        corrupt(r)
        forget(keys.course_seats(r.lecture.course_id))  # readers now cache the corrupted count
        shown = r.alice.client.get(f"/api/courses/{r.lecture.course_id}").json()
        assert (shown["enrolled_count"], shown["seats_available"]) == (5, 25)
        check_counters(r, "--fix")
        shown = r.alice.client.get(f"/api/courses/{r.lecture.course_id}").json()
        assert (shown["enrolled_count"], shown["seats_available"]) == (2, 28)
        assert r.bob.client.get(f"/api/enrollments/{r.seminar.course_id}").json()["waitlist_position"] == 1

    def test_a_write_racing_the_repair_wins_and_the_next_run_repairs_what_is_left(self, registration, monkeypatch):
        r = registration
        corrupt(r)
        count_records = counters.count_records

        def bob_drops_the_lecture_meanwhile(semesters):
            # After the counters were read, before the records are: the repair's condition must fail.
            enrollment_services.drop(actor=r.bob.actor, user_id=r.bob.user_id, course_id=r.lecture.course_id)
            return count_records(semesters)

        monkeypatch.setattr(counters, "count_records", bob_drops_the_lecture_meanwhile)
        lines, _, error = check_counters(r, "--fix")
        monkeypatch.undo()
        raced = [line for line in lines if r.lecture.course_id in line.split(":")[0] or r.bob.user_id in line]
        assert raced and all(line.endswith(" -> changed while checking; run again") for line in raced)
        assert all(line.endswith(" -> fixed") for line in lines if line not in raced)
        assert error is not None and "run again" in str(error)
        assert int(course(r.lecture).enrolled_count) == 4  # the corrupted 5, less Bob's drop: not overwritten

        lines, _, error = check_counters(r, "--fix")
        assert error is None and lines and all(line.endswith(" -> fixed") for line in lines)
        assert int(course(r.lecture).enrolled_count) == 1
        assert check_counters(r)[::2] == ([], None)
