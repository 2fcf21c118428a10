"""Background work, run eagerly in-process: emails, audit records, the outbox and the broker's outages.
Cache warming: test_cache_warming.py; the CloudWatch push and SES: test_aws_services.py.

The end-to-end tests in tests/e2e/test_worker.py run the same tasks in a real worker process.
"""

from __future__ import annotations

import time
import uuid

import orjson
import pytest
from django.conf import settings
from django.core import mail
from django.test import override_settings

from accounts.models import Role
from audit.models import AuditRecord, entity_key_for
from audit.selectors import audit_by_actor
from audit.tasks import record_event
from courseproject.background import ledger
from courseproject.background.dispatch import dispatch
from courseproject.background.models import OUTBOX_DEAD, OUTBOX_SHARDS, OutboxEvent, outbox_pending_status
from courseproject.background.outbox import relay_until_empty
from courseproject.background.reliable import RetryLater
from courseproject.dynamo.client import dynamodb_client, reset_dynamodb_client
from courseproject.dynamo.tables import describe_table
from enrollments import services as enrollment_services
from enrollments.tasks import send_enrollment_email
from tests.conftest import unique_email, unique_semester


def pending_outbox() -> list[OutboxEvent]:
    return [
        event for shard in range(OUTBOX_SHARDS) for event in OutboxEvent.by_status.query(outbox_pending_status(shard))
    ]


def audit_trail(entity_type: str, entity_id: str) -> list[AuditRecord]:
    return list(AuditRecord.by_entity.query(entity_key_for(entity_type, entity_id)))


def emails_for(address: str) -> list:
    return [message for message in mail.outbox if any(address in recipient for recipient in message.to)]


class TestEnrollmentEmails:
    def test_enrolling_sends_one_confirmation_in_text_and_html(self, student, make_course):
        course = make_course(course_code="HIST 210", title="Modern Europe")
        enrollment_services.enroll(actor=student.actor, course_id=course.course_id)
        [message] = emails_for(student.user.email)
        assert message.subject == "You are enrolled in HIST 210: Modern Europe"
        assert "HIST 210: Modern Europe" in message.body
        assert student.user.name in message.body
        html, mimetype = message.alternatives[0]
        assert mimetype == "text/html"
        assert "<strong>HIST 210: Modern Europe</strong>" in html
        assert message.from_email == settings.DEFAULT_FROM_EMAIL

    def test_dropping_sends_a_notice(self, student, make_course):
        course = make_course(title="Signals")
        enrollment_services.enroll(actor=student.actor, course_id=course.course_id)
        enrollment_services.drop(actor=student.actor, user_id=student.user_id, course_id=course.course_id)
        subjects = [message.subject for message in emails_for(student.user.email)]
        assert subjects[1].startswith("You have dropped")

    def test_enrolling_twice_sends_one_email(self, student, make_course):
        course = make_course()
        enrollment_services.enroll(actor=student.actor, course_id=course.course_id)
        enrollment_services.enroll(actor=student.actor, course_id=course.course_id)
        assert len(emails_for(student.user.email)) == 1

    def test_a_redelivered_email_task_sends_nothing_more(self, student, make_course):
        course = make_course()
        arguments = {
            "event_id": uuid.uuid4().hex,
            "action": "enrolled",
            "user_id": student.user_id,
            "course_id": course.course_id,
            "enrollment": {"enrollment_id": "x", "enrolled_at": "now"},
        }
        assert send_enrollment_email.run(**arguments) == "sent"
        assert send_enrollment_email.run(**arguments) == "already sent"
        assert len(emails_for(student.user.email)) == 1

    def test_a_send_in_progress_elsewhere_is_retried_later(self, student, make_course, dynamodb_calls):
        course = make_course()
        event_id = uuid.uuid4().hex
        assert ledger.claim(f"email:enrolled:{event_id}", owner="other", lease_seconds=60) == ledger.Claim.CLAIMED
        dynamodb_calls.clear()
        result = send_enrollment_email.apply(
            kwargs={
                "event_id": event_id,
                "action": "enrolled",
                "user_id": student.user_id,
                "course_id": course.course_id,
                "enrollment": {"enrollment_id": "x", "enrolled_at": "now"},
            }
        )
        assert isinstance(result.result, RetryLater)
        # Retried (each attempt tries to claim: one PutItem) rather than failed at once, never sent,
        # and in the end kept as a dead letter (one more PutItem).
        assert dynamodb_calls.count("PutItem") == 1 + settings.CELERY_TASK_MAX_RETRIES + 1
        assert emails_for(student.user.email) == []
        for event in OutboxEvent.by_status.query(OUTBOX_DEAD):
            if event.event_id.startswith(event_id):
                event.delete()

    def test_a_task_that_fails_for_good_is_kept_as_a_dead_letter(self):
        event_id = uuid.uuid4().hex
        record_event.apply(
            kwargs={
                "event_id": event_id,
                "entity_type": "course",
                "entity_id": "c",
                "action": "updated",
                "actor_id": "a",
                "occurred_at": "not a time",
                "before": None,
                "after": None,
            }
        )
        [dead] = [event for event in OutboxEvent.by_status.query(OUTBOX_DEAD) if event.event_id.startswith(event_id)]
        assert dead.task_name == "audit.record_event"
        assert dead.task_kwargs["event_id"] == event_id
        assert "ValueError" in dead.reason
        dead.delete()

    def test_recipients_with_commas_and_accents_in_their_names_get_their_email(self, make_person, make_course):
        student = make_person(Role.STUDENT, name="Doe, Jané")
        enrollment_services.enroll(actor=student.actor, course_id=make_course().course_id)
        [message] = emails_for(student.user.email)
        assert message.message()["To"]

    def test_a_failed_send_releases_its_claim_for_the_retry(self, student, make_course, settings):
        course = make_course()
        arguments = {
            "event_id": uuid.uuid4().hex,
            "action": "enrolled",
            "user_id": student.user_id,
            "course_id": course.course_id,
            "enrollment": {"enrollment_id": "x", "enrolled_at": "now"},
        }
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 1
        with pytest.raises(OSError):
            send_enrollment_email.run(**arguments)
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        assert send_enrollment_email.run(**arguments) == "sent"


class TestAuditLog:
    def test_an_enroll_and_a_drop_are_recorded_with_actor_and_values(self, student, make_course):
        course = make_course()
        enrollment_services.enroll(actor=student.actor, course_id=course.course_id)
        enrollment_services.drop(actor=student.actor, user_id=student.user_id, course_id=course.course_id)
        records = sorted(
            audit_trail("enrollment", f"{student.user_id}#{course.course_id}"), key=lambda r: r.occurred_at
        )
        assert [record.action for record in records] == ["enrolled", "dropped"]
        assert {record.actor_id for record in records} == {student.user_id}
        assert records[0].after["status"] == "enrolled"
        assert (records[1].before["status"], records[1].after["status"]) == ("enrolled", "dropped")

    def test_course_writes_are_recorded_with_before_and_after(self, instructor, make_course):
        course = make_course(title="Old")
        instructor.client.patch(f"/api/courses/{course.course_id}", {"title": "New"}, format="json")
        instructor.client.delete(f"/api/courses/{course.course_id}")
        records = sorted(audit_trail("course", course.course_id), key=lambda record: record.occurred_at)
        assert [record.action for record in records] == ["created", "updated", "deleted"]
        assert (records[1].before["title"], records[1].after["title"]) == ("Old", "New")
        assert records[2].after is None
        assert all(record.actor_id == instructor.user_id for record in records)

    def test_user_writes_are_recorded_without_secrets(self, anonymous):
        email = unique_email()
        user_id = anonymous.post(
            "/api/auth/register", {"email": email, "password": "a-long-password", "name": "Ada"}, format="json"
        ).json()["user_id"]
        [record] = audit_trail("user", user_id)
        assert record.action == "created"
        assert "password" not in str(record.after) and "pbkdf2" not in str(record.after)

    def test_a_redelivered_audit_task_writes_one_record(self):
        event = {
            "event_id": uuid.uuid4().hex,
            "entity_type": "course",
            "entity_id": uuid.uuid4().hex,
            "action": "updated",
            "actor_id": "someone",
            "occurred_at": "2026-11-25T10:00:00+00:00",
            "before": {"title": "a"},
            "after": {"title": "b"},
        }
        assert record_event.run(**event) is True
        assert record_event.run(**event) is False
        assert len(audit_trail("course", event["entity_id"])) == 1

    def test_an_actors_records_read_newest_first(self, instructor, make_course):
        for title in ("First", "Second"):
            make_course(title=title)
        page = audit_by_actor(actor_id=instructor.user_id, limit=1, cursor=None)
        assert page.items[0].after["title"] == "Second"
        assert page.next_cursor

    def test_the_audit_table_expires_records_by_ttl(self):
        ttl = dynamodb_client().describe_time_to_live(TableName=AuditRecord.Meta.table_name)["TimeToLiveDescription"]
        assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expires_at")


class TestBrokerOutage:
    def test_the_request_succeeds_and_the_work_waits_in_the_outbox(
        self, publishing, local_services, student, make_course
    ):
        course = make_course()
        broker = local_services["broker"]
        broker.stop()
        try:
            started = time.monotonic()
            response = student.client.post("/api/enrollments", {"course_id": course.course_id}, format="json")
            assert response.status_code == 201
            assert time.monotonic() - started < 5
        finally:
            broker.start()
        pending = [event for event in pending_outbox() if student.user_id in str(event.task_kwargs)]
        assert {event.task_name for event in pending} == {"audit.record_event", "enrollments.send_enrollment_email"}

        relay_until_empty()
        queued = [orjson.loads(message)["headers"]["id"] for message in publishing.lrange("celery", 0, -1)]
        assert {event.event_id for event in pending} <= set(queued)
        remaining = {event.event_id for event in pending_outbox()}
        assert not remaining & {event.event_id for event in pending}

    def test_dispatch_never_raises_even_without_broker_and_outbox(self, publishing, local_services, caplog):
        broker = local_services["broker"]
        broker.stop()
        try:
            with override_settings(DYNAMODB_ENDPOINT_URL="http://127.0.0.1:9", DYNAMODB_MAX_ATTEMPTS=1):
                reset_dynamodb_client()
                try:
                    dispatch(
                        record_event,
                        event_id="e1",
                        entity_type="course",
                        entity_id="c",
                        action="updated",
                        actor_id="a",
                        occurred_at="2026-01-01T00:00:00+00:00",
                        before=None,
                        after=None,
                    )
                finally:
                    reset_dynamodb_client()
        finally:
            broker.start()
        assert "LOST TASK audit.record_event" in caplog.text


def test_the_outbox_and_ledger_tables_exist():
    for table in ("test-Outbox", "test-TaskLedger", "test-AuditLog"):
        assert describe_table(table)["TableStatus"] == "ACTIVE"


def test_an_admins_action_is_recorded_as_the_admins(admin, instructor):
    response = admin.client.post(
        "/api/courses",
        {
            "course_code": "ADM 1",
            "title": "T",
            "semester_id": unique_semester(),
            "department_id": 1,
            "credits": 1,
            "capacity": 5,
            "instructor_id": instructor.user_id,
        },
        format="json",
    )
    [record] = audit_trail("course", response.json()["course_id"])
    assert record.actor_id == admin.user_id
