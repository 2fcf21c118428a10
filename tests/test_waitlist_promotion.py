"""Promotion from waitlists: students who no longer qualify are skipped with a reason, waitlists
expire at the add deadline, a deactivated student's seats and places are released, the sweep fills
seats whose promotion was lost (the broker down), and an outcome's follow-up (email, audit record)
happens once however often it runs. Tasks run inline here."""

from __future__ import annotations

import inspect
import threading
from datetime import timedelta

import pytest
import redis
import time_machine
from django.core import mail
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Role
from audit.models import AuditRecord, entity_key_for
from courseproject.background.models import OUTBOX_SHARDS, OutboxEvent, outbox_pending_status
from courseproject.background.outbox import broker_breaker
from courseproject.celery import app as celery_app
from courses.models import WAITLIST_SHARDS, Course
from enrollments import promotion
from enrollments.models import Enrollment, Schedule, enrollment_id_for
from enrollments.records import read_student_records
from enrollments.serializers import enrollment_representation
from enrollments.tasks import follow_up_waitlist_outcome
from enrollments.waitlist import FOLLOW_UP_TASK, PROMOTED, commit_waitlist_exit, outcome_event_id
from tests.conftest import open_semester
from tests.registration import ADD_DEADLINE, DURING_REGISTRATION, client_of, meeting, windowed_semester


def post(person, course, **body):
    return client_of(person).post("/api/enrollments", {"course_id": course.course_id, **body}, format="json")


def record_of(person, course) -> Enrollment:
    return Enrollment.get(enrollment_id_for(user_id=person.user_id, course_id=course.course_id), consistent_read=True)


def emails_to(person, subject_part: str) -> list:
    return [
        message for message in mail.outbox if person.user.email in message.to[0] and subject_part in message.subject
    ]


def audit_trail(person, course) -> list[AuditRecord]:
    key = entity_key_for("enrollment", enrollment_id_for(user_id=person.user_id, course_id=course.course_id))
    return list(AuditRecord.by_entity.query(key))


@pytest.fixture
def waiting_line(make_person, make_course):
    """A one-seat course (MON 09:00-10:00, 3 credits) in an 18-credit semester, its seat taken by
    `holder`, and `first` and `second` waiting, in that order."""

    def make(**semester_rules):
        semester_id = open_semester(**semester_rules)
        course = make_course(capacity=1, semester_id=semester_id, meetings=[meeting(["MON"], "09:00", "10:00")])
        holder, first, second = make_person(), make_person(), make_person()
        assert post(holder, course).status_code == 201
        assert post(first, course, waitlist=True).status_code == 201
        assert post(second, course, waitlist=True).status_code == 201
        return course, holder, first, second

    return make


class TestSkipping:
    def test_a_student_with_a_time_conflict_since_joining_is_skipped_and_the_next_promoted(
        self, waiting_line, make_course
    ):
        course, holder, first, second = waiting_line()
        clash = make_course(semester_id=course.semester_id, meetings=[meeting(["MON"], "09:30", "10:30")])
        assert post(first, clash).status_code == 201
        mail.outbox.clear()
        assert client_of(holder).delete(f"/api/enrollments/{course.course_id}").status_code == 204
        skipped = record_of(first, course)
        assert (skipped.status, skipped.skip_reason) == ("waitlist_skipped", "time_conflict")
        assert record_of(second, course).status == "enrolled"
        assert len(emails_to(first, "passed over")) == 1
        assert "meets at the same time" in emails_to(first, "passed over")[0].body
        assert len(emails_to(second, "A seat opened")) == 1
        schedule = Schedule.get(first.user_id, course.semester_id, consistent_read=True)
        assert course.course_id not in schedule.waitlists and course.course_id not in schedule.courses
        skipped_json = client_of(first).get(f"/api/enrollments/{course.course_id}").json()
        assert (skipped_json["status"], skipped_json["skip_reason"]) == ("waitlist_skipped", "time_conflict")
        # Once the conflict is gone the student may join again, at the end of the line.
        assert client_of(first).delete(f"/api/enrollments/{clash.course_id}").status_code == 204
        rejoined = post(first, course, waitlist=True).json()
        assert (rejoined["status"], rejoined["waitlist_position"], rejoined["skip_reason"]) == ("waitlisted", 1, None)

    def test_a_student_over_the_credit_limit_since_joining_is_skipped(self, waiting_line, make_course):
        course, holder, first, second = waiting_line(credit_limit=6)
        assert post(first, make_course(semester_id=course.semester_id, credits=4)).status_code == 201
        client_of(holder).delete(f"/api/enrollments/{course.course_id}")
        assert record_of(first, course).skip_reason == "credit_limit_exceeded"
        assert record_of(second, course).status == "enrolled"
        stored = Course.get(course.course_id, consistent_read=True)
        assert (stored.enrolled_count, stored.waitlisted_count) == (1, 0)


class TestExpiry:
    def test_the_waitlist_expires_after_the_add_deadline_with_one_email_each(self, make_person, make_course):
        course = make_course(capacity=1, semester_id=windowed_semester())
        holder, first, second = make_person(), make_person(), make_person()
        with time_machine.travel(DURING_REGISTRATION, tick=False):
            assert post(holder, course).status_code == 201
            assert post(first, course, waitlist=True).status_code == 201
            assert post(second, course, waitlist=True).status_code == 201
        mail.outbox.clear()
        with time_machine.travel(ADD_DEADLINE, tick=False):
            promotion.sweep_waitlists()
        assert record_of(first, course).status == "waitlisted"  # the deadline itself still adds
        with time_machine.travel(ADD_DEADLINE + timedelta(seconds=1), tick=False):
            report = promotion.sweep_waitlists()
            again = promotion.sweep_waitlists()
        assert report.expired >= 2 and again.expired == 0
        assert [record_of(person, course).status for person in (first, second)] == ["waitlist_expired"] * 2
        assert [len(emails_to(person, "has closed")) for person in (first, second)] == [1, 1]
        assert Course.get(course.course_id, consistent_read=True).waitlisted_count == 0
        # The sweep took the course out of the sparse index once nobody waited.
        indexed = {key.course_id for shard in range(WAITLIST_SHARDS) for key in Course.with_waitlist.query(shard)}
        assert course.course_id not in indexed


class TestReleasingADeactivatedStudent:
    def test_their_seat_goes_to_the_waitlist_and_their_places_are_given_up(self, admin, waiting_line, make_course):
        course, holder, first, _ = waiting_line()
        other = make_course(capacity=1, semester_id=course.semester_id)
        assert post(first, other).status_code == 201
        assert post(holder, other, waitlist=True).status_code == 201
        account_services.change_user(
            actor=admin.actor, user_id=holder.user_id, name=holder.user.name, role=Role.STUDENT, is_active=False
        )
        assert record_of(holder, course).status == "dropped"
        assert record_of(holder, other).status == "waitlist_left"
        assert record_of(first, course).status == "enrolled"
        assert Course.get(other.course_id, consistent_read=True).waitlisted_count == 0


@pytest.fixture
def broker_down(settings, local_services):
    """The broker stopped and tasks published for real: what a drop queues lands in the outbox."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    celery_app.conf.task_always_eager = False
    broker_breaker.reset()
    local_services["broker"].stop()
    yield
    local_services["broker"].start()
    celery_app.conf.task_always_eager = True
    broker_breaker.reset()
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete("celery", "waitlist")


def outbox_tasks_for(course_id: str) -> list[OutboxEvent]:
    return [
        event
        for shard in range(OUTBOX_SHARDS)
        for event in OutboxEvent.by_status.query(outbox_pending_status(shard))
        if event.task_kwargs.get("course_id") == course_id
    ]


class TestLostPromotions:
    def test_with_the_broker_down_the_freed_seat_waits_for_the_line_and_the_sweep_fills_it(
        self, broker_down, waiting_line, make_person
    ):
        course, holder, first, second = waiting_line()
        assert client_of(holder).delete(f"/api/enrollments/{course.course_id}").status_code == 204
        assert {event.task_name for event in outbox_tasks_for(course.course_id)} >= {"enrollments.promote_waitlist"}
        # A seat is free, but someone waits: nobody jumps the queue.
        shown = client_of(first).get(f"/api/courses/{course.course_id}").json()
        assert (shown["enrolled_count"], shown["seats_available"], shown["waitlisted_count"]) == (0, 0, 2)
        refused = post(make_person(), course)
        assert (refused.status_code, refused.json()["code"]) == (409, "course_full")
        report = promotion.sweep_waitlists()
        assert report.promoted >= 1 and report.stalled_seat_seconds > 0
        assert record_of(first, course).status == "enrolled"
        assert client_of(second).get(f"/api/enrollments/{course.course_id}").json()["waitlist_position"] == 1
        for event in outbox_tasks_for(course.course_id):
            event.delete()

    def test_a_drop_from_a_course_nobody_can_be_waiting_for_queues_no_promotion(
        self, broker_down, make_course, student
    ):
        course = make_course(capacity=5)
        assert post(student, course).status_code == 201
        assert client_of(student).delete(f"/api/enrollments/{course.course_id}").status_code == 204
        queued = {event.task_name for event in outbox_tasks_for(course.course_id)}
        assert "enrollments.promote_waitlist" not in queued

    def test_promoters_racing_for_one_seat_promote_one_student_once(self, broker_down, waiting_line):
        course, holder, first, second = waiting_line()
        client_of(holder).delete(f"/api/enrollments/{course.course_id}")
        start = threading.Barrier(4)
        reports = []

        def promote() -> None:
            start.wait()
            reports.append(promotion.fill_freed_seats(course_id=course.course_id))

        threads = [threading.Thread(target=promote) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sum(report.promoted for report in reports) == 1
        assert (record_of(first, course).status, record_of(second, course).status) == ("enrolled", "waitlisted")
        stored = Course.get(course.course_id, consistent_read=True)
        assert (stored.enrolled_count, stored.waitlisted_count) == (1, 1)
        for event in outbox_tasks_for(course.course_id):
            event.delete()


class TestFollowUpOnce:
    def test_a_promotion_whose_worker_died_after_the_commit_is_followed_up_from_the_outbox_once(
        self, broker_down, settings, waiting_line
    ):
        course, holder, first, _ = waiting_line()
        client_of(holder).delete(f"/api/enrollments/{course.course_id}")  # its promotion task: in the outbox
        records = read_student_records(
            user_id=first.user_id, course_id=course.course_id, semester_id=course.semester_id
        )
        follow_up = {
            "event_id": outcome_event_id(enrollment=records.enrollment, action="promoted"),
            "action": "promoted",
            "user_id": first.user_id,
            "course_id": course.course_id,
            "before": enrollment_representation(records.enrollment),
        }
        # The transaction commits the seat, the promotion and the follow-up's outbox copy; the worker dies.
        assert commit_waitlist_exit(records=records, outcome=PROMOTED, now=timezone.now(), follow_up=follow_up)
        [kept] = [event for event in outbox_tasks_for(course.course_id) if event.task_name == FOLLOW_UP_TASK]
        mail.outbox.clear()
        # The relay delivers it, and a redelivery (or the relay racing a live promoter) runs it again.
        # The broker is back; the email and audit tasks the follow-up queues run inline.
        settings.CELERY_TASK_ALWAYS_EAGER = celery_app.conf.task_always_eager = True
        broker_breaker.reset()
        result = follow_up_waitlist_outcome.apply(kwargs=kept.task_kwargs)
        assert result.successful(), result.traceback
        follow_up_waitlist_outcome.apply(kwargs=kept.task_kwargs)
        assert len(emails_to(first, "A seat opened")) == 1
        assert [record.action for record in audit_trail(first, course)].count("promoted") == 1
        assert FOLLOW_UP_TASK not in {event.task_name for event in outbox_tasks_for(course.course_id)}
        for event in outbox_tasks_for(course.course_id):
            event.delete()


def test_every_periodic_task_takes_what_beat_sends_it():
    """Beat's schedule (courseproject/celery.py) against the tasks' signatures: a task beat could not
    call would fail every time, quietly, in the worker."""
    celery_app.loader.import_default_modules()
    schedule = celery_app.conf.beat_schedule
    assert "enrollments.sweep_waitlists" in {entry["task"] for entry in schedule.values()}
    for entry in schedule.values():
        task = celery_app.tasks[entry["task"]]
        inspect.signature(task.run).bind(*entry.get("args", ()), **entry.get("kwargs", {}))
