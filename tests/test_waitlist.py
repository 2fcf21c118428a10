"""Waitlists: joining a full course, positions, leaving, and freed seats going to the waitlist in
order (tasks run inline here, so a drop's promotion has happened when its response arrives).
Skips, expiry, limits and the sweep: test_waitlist_promotion.py. Races across processes and a
worker killed mid-promotion: tests/e2e/test_waitlist_races.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail

from courseproject.api.errors import NotFoundError
from courses import services as course_services
from courses.models import Course
from enrollments import services as enrollment_services
from enrollments.models import Enrollment, Schedule, enrollment_id_for
from tests.conftest import course_owner
from tests.registration import DROP_DEADLINE, DURING_REGISTRATION, client_of, windowed_semester


def join(person, course):
    return person.client.post("/api/enrollments", {"course_id": course.course_id, "waitlist": True}, format="json")


def enroll(person, course):
    return person.client.post("/api/enrollments", {"course_id": course.course_id}, format="json")


def drop(person, course):
    return person.client.delete(f"/api/enrollments/{course.course_id}")


def course_json(person, course) -> dict:
    return person.client.get(f"/api/courses/{course.course_id}").json()


def emails_to(person, subject_part: str) -> list:
    return [
        message for message in mail.outbox if person.user.email in message.to[0] and subject_part in message.subject
    ]


@pytest.fixture
def full_course(make_person, make_course):
    """A course with two seats, both taken; returns (course, the two enrolled students)."""
    course = make_course(capacity=2)
    holders = [make_person(), make_person()]
    for holder in holders:
        assert enroll(holder, course).status_code == 201
    return course, holders


class TestJoining:
    def test_a_full_course_puts_students_on_its_waitlist_in_order(self, make_person, full_course):
        course, _ = full_course
        first, second = make_person(), make_person()
        joined = join(first, course)
        assert joined.status_code == 201
        body = joined.json()
        assert (body["status"], body["waitlist_position"], body["skip_reason"]) == ("waitlisted", 1, None)
        assert join(second, course).json()["waitlist_position"] == 2
        shown = course_json(first, course)
        assert (shown["waitlisted_count"], shown["seats_available"], shown["waitlist_capacity"]) == (2, 0, 20)

    def test_cached_lists_and_details_show_the_waitlist_also_after_an_edit(self, instructor, make_person, full_course):
        course, _ = full_course
        join(make_person(), course)
        course_services.update_course(actor=course_owner(course), course_id=course.course_id, changes={"title": "New"})
        for _ in range(2):  # a miss, then a hit with the seats laid over
            listed = instructor.client.get("/api/courses", {"semester_id": course.semester_id}).json()["results"]
            detail = course_json(instructor, course)
            for shown in (listed[0], detail):
                assert (shown["title"], shown["waitlisted_count"], shown["seats_available"]) == ("New", 1, 0)

    def test_without_waitlist_true_a_full_course_is_409_and_says_whether_the_waitlist_has_room(
        self, student, full_course
    ):
        course, _ = full_course
        refused = enroll(student, course)
        assert (refused.status_code, refused.json()["code"], refused.json()["waitlist_open"]) == (
            409,
            "course_full",
            True,
        )
        course_services.update_course(
            actor=course_owner(course), course_id=course.course_id, changes={"waitlist_capacity": 0}
        )
        assert enroll(student, course).json()["waitlist_open"] is False
        refused = join(student, course)
        assert (refused.status_code, refused.json()["code"]) == (409, "waitlist_full")

    def test_joining_again_is_200_before_any_rule(self, student, full_course):
        course, _ = full_course
        assert join(student, course).status_code == 201
        again = join(student, course)
        assert (again.status_code, again.json()["status"], again.json()["waitlist_position"]) == (200, "waitlisted", 1)
        assert enroll(student, course).status_code == 200  # also without the flag
        assert Course.get(course.course_id, consistent_read=True).waitlisted_count == 1

    def test_waitlist_true_on_a_course_with_a_free_seat_and_nobody_waiting_enrolls(self, student, make_course):
        course = make_course(capacity=5)
        response = join(student, course)
        assert (response.status_code, response.json()["status"], response.json()["waitlist_position"]) == (
            201,
            "enrolled",
            None,
        )

    def test_joining_runs_the_enroll_rules_first(self, make_person, make_course):
        semester_id = windowed_semester()
        course = make_course(capacity=1, semester_id=semester_id)
        with time_machine.travel(DURING_REGISTRATION, tick=False):
            assert (
                client_of(make_person())
                .post("/api/enrollments", {"course_id": course.course_id}, format="json")
                .status_code
                == 201
            )
        late = client_of(make_person()).post(
            "/api/enrollments", {"course_id": course.course_id, "waitlist": True}, format="json"
        )
        assert (late.status_code, late.json()["code"]) == (409, "registration_closed")

    def test_a_lowered_waitlist_capacity_keeps_those_waiting_and_stops_new_joins(self, make_person, full_course):
        course, _ = full_course
        waiting = [make_person() for _ in range(3)]
        for person in waiting:
            assert join(person, course).status_code == 201
        course_services.update_course(
            actor=course_owner(course), course_id=course.course_id, changes={"waitlist_capacity": 1}
        )
        assert [join(person, course).status_code for person in waiting] == [200, 200, 200]
        refused = join(make_person(), course)
        assert (refused.status_code, refused.json()["code"], refused.json()["waitlist_capacity"]) == (
            409,
            "waitlist_full",
            1,
        )

    def test_a_student_may_wait_for_at_most_max_waitlists_per_semester(
        self, settings, student, make_person, make_course
    ):
        settings.MAX_WAITLISTS_PER_SEMESTER = 2
        semester_id = windowed_semester()
        with time_machine.travel(DURING_REGISTRATION, tick=False):
            courses = [make_course(capacity=1, semester_id=semester_id) for _ in range(3)]
            for course in courses:
                assert (
                    client_of(make_person())
                    .post("/api/enrollments", {"course_id": course.course_id}, format="json")
                    .status_code
                    == 201
                )
            answers = [
                client_of(student).post("/api/enrollments", {"course_id": c.course_id, "waitlist": True}, format="json")
                for c in courses
            ]
        assert [answer.status_code for answer in answers] == [201, 201, 409]
        assert (answers[2].json()["code"], answers[2].json()["max_waitlists"]) == ("waitlist_limit_reached", 2)
        assert Schedule.get(student.user_id, semester_id, consistent_read=True).waitlists.keys() == {
            courses[0].course_id,
            courses[1].course_id,
        }

    def test_a_course_with_anyone_waiting_cannot_be_deleted(self, instructor, make_person, full_course):
        course, _ = full_course
        join(make_person(), course)
        refused = instructor.client.delete(f"/api/courses/{course.course_id}")
        assert (refused.status_code, refused.json()["code"], refused.json()["waitlisted_count"]) == (
            409,
            "course_has_enrollments",
            1,
        )


class TestLeaving:
    def test_leaving_the_waitlist_is_204_also_after_the_drop_deadline_and_rejoining_goes_to_the_end(
        self, make_person, make_course
    ):
        semester_id = windowed_semester()
        course = make_course(capacity=1, semester_id=semester_id)
        people = [make_person() for _ in range(3)]
        with time_machine.travel(DURING_REGISTRATION, tick=False):
            holder, first, second = people
            assert (
                client_of(holder).post("/api/enrollments", {"course_id": course.course_id}, format="json").status_code
                == 201
            )
            assert (
                client_of(first)
                .post("/api/enrollments", {"course_id": course.course_id, "waitlist": True}, format="json")
                .status_code
                == 201
            )
            assert (
                client_of(second)
                .post("/api/enrollments", {"course_id": course.course_id, "waitlist": True}, format="json")
                .status_code
                == 201
            )
        with time_machine.travel(DROP_DEADLINE + timedelta(days=1), tick=False):
            assert client_of(first).delete(f"/api/enrollments/{course.course_id}").status_code == 204
            refused = client_of(holder).delete(f"/api/enrollments/{course.course_id}")
            assert (refused.status_code, refused.json()["code"]) == (409, "drop_deadline_passed")
        record = Enrollment.get(enrollment_id_for(user_id=first.user_id, course_id=course.course_id))
        assert (record.status, record.waitlist_course_id) == ("waitlist_left", None)
        assert client_of(second).get(f"/api/enrollments/{course.course_id}").json()["waitlist_position"] == 1
        with time_machine.travel(DURING_REGISTRATION, tick=False):
            rejoined = client_of(first).post(
                "/api/enrollments", {"course_id": course.course_id, "waitlist": True}, format="json"
            )
        assert (rejoined.status_code, rejoined.json()["waitlist_position"]) == (201, 2)
        assert Course.get(course.course_id, consistent_read=True).waitlisted_count == 2


class TestPromotion:
    def test_a_drop_gives_the_seat_to_the_head_of_the_waitlist(self, make_person, full_course):
        course, holders = full_course
        first, second, third = make_person(), make_person(), make_person()
        for person in (first, second, third):
            assert join(person, course).status_code == 201
        mail.outbox.clear()
        assert drop(holders[0], course).status_code == 204
        assert first.client.get(f"/api/enrollments/{course.course_id}").json()["status"] == "enrolled"
        assert second.client.get(f"/api/enrollments/{course.course_id}").json()["waitlist_position"] == 1
        assert third.client.get(f"/api/enrollments/{course.course_id}").json()["waitlist_position"] == 2
        shown = course_json(first, course)
        assert (shown["enrolled_count"], shown["waitlisted_count"], shown["seats_available"]) == (2, 2, 0)
        assert len(emails_to(first, "A seat opened")) == 1
        promoted = Enrollment.get(enrollment_id_for(user_id=first.user_id, course_id=course.course_id))
        assert promoted.promoted_at is not None and promoted.seat_freed_at <= promoted.promoted_at
        assert course.course_id in Schedule.get(first.user_id, course.semester_id, consistent_read=True).courses
        # Dropped and enrolled again directly, the record starts afresh: no trace of the promotion.
        assert drop(first, course).status_code == 204
        assert enroll(first, course).status_code == 409  # the freed seat went to `second`
        drop(holders[1], course)
        drop(third, course)  # promoted into the seat holders[1] freed, and dropping it
        assert enroll(first, course).status_code == 201
        again = Enrollment.get(enrollment_id_for(user_id=first.user_id, course_id=course.course_id))
        assert (again.promoted_at, again.waitlist_sequence, again.seat_freed_at) == (None, None, None)

    def test_a_capacity_raise_promotes_as_many_as_it_adds(self, make_person, full_course):
        course, _ = full_course
        waiting = [make_person() for _ in range(3)]
        for person in waiting:
            join(person, course)
        course_services.update_course(actor=course_owner(course), course_id=course.course_id, changes={"capacity": 4})
        statuses = [person.client.get(f"/api/enrollments/{course.course_id}").json() for person in waiting]
        assert [(entry["status"], entry["waitlist_position"]) for entry in statuses] == [
            ("enrolled", None),
            ("enrolled", None),
            ("waitlisted", 1),
        ]

    def test_my_enrollments_and_the_instructors_waitlist_show_current_positions(
        self, make_person, instructor, full_course
    ):
        course, holders = full_course
        waiting = [make_person() for _ in range(3)]
        for person in waiting:
            join(person, course)
        mine = waiting[2].client.get("/api/enrollments/me").json()["results"]
        assert [(entry["status"], entry["waitlist_position"]) for entry in mine] == [("waitlisted", 3)]
        drop(holders[0], course)
        mine = waiting[2].client.get("/api/enrollments/me").json()["results"]
        assert mine[0]["waitlist_position"] == 2
        listed = instructor.client.get(f"/api/courses/{course.course_id}/enrollments?status=waitlisted").json()
        assert [(entry["user_id"], entry["waitlist_position"]) for entry in listed["results"]] == [
            (waiting[1].user_id, 1),
            (waiting[2].user_id, 2),
        ]
        assert listed["results"][0]["student"]["user_id"] == waiting[1].user_id
        roster = instructor.client.get(f"/api/courses/{course.course_id}/enrollments").json()["results"]
        assert {entry["user_id"] for entry in roster} == {holders[1].user_id, waiting[0].user_id}
        assert waiting[0].client.get(f"/api/courses/{course.course_id}/enrollments").status_code == 403


def test_taking_someone_off_a_waitlist_never_drops_them_from_a_seat_they_were_promoted_into(
    admin, make_person, full_course
):
    course, holders = full_course
    waiter = make_person()
    join(waiter, course)
    drop(holders[0], course)  # the waiter is promoted
    with pytest.raises(NotFoundError):
        enrollment_services.leave_waitlist(actor=admin.actor, user_id=waiter.user_id, course_id=course.course_id)
    assert waiter.client.get(f"/api/enrollments/{course.course_id}").json()["status"] == "enrolled"
