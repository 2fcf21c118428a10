"""Background work in a real Celery worker process: exactly once, also across a SIGKILL, and logged
under the id of the request that caused it."""

from __future__ import annotations

import contextlib
import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import orjson
import pytest
import requests
from kombu import Connection

from audit.models import AuditRecord, entity_key_for
from courseproject.celery import app
from devstack.services import ManagedProcess
from tests.conftest import TEST_PASSWORD, unique_email
from tests.e2e.conftest import EMAIL_DIR

# send_task always publishes, which is what these tests want even though in-process tests run eagerly.
pytestmark = [pytest.mark.e2e, pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")]

# Celery's line for a task that ran to the end, e.g. "Task audit.record_event[<id>] succeeded in 0.02s: True".
SUCCEEDED_LINE = re.compile(r"Task (?P<task>[\w.]+)\[[^\]]+\] succeeded in ")

# The worker's visibility timeout (4 s) and restore sweep (1 s), with room to spare: by then any
# message held by a dead worker has been delivered again.
REDELIVERY_SECONDS = 8


def wait_for(condition: Callable[[], bool], *, timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


def emails_mentioning(text: str) -> int:
    """Messages in the file backend's files whose content mentions `text` (one message per file block)."""
    if not EMAIL_DIR.exists():
        return 0
    separator = "-" * 79
    return sum(
        block.count(text) > 0
        for path in EMAIL_DIR.iterdir()
        for block in path.read_text(errors="replace").split(separator)
    )


def audit_records(entity_type: str, entity_id: str) -> list[AuditRecord]:
    return list(AuditRecord.by_entity.query(entity_key_for(entity_type, entity_id)))


def worker_log_lines(worker: ManagedProcess) -> list[dict]:
    """The worker's JSON log lines (its start-up banner and Python's warnings are not JSON)."""
    lines = []
    for text in worker.log_path.read_text(errors="replace").splitlines():
        if text.startswith("{"):
            with contextlib.suppress(orjson.JSONDecodeError):  # a line being written as we read
                lines.append(orjson.loads(text))
    return lines


def signed_in_session(server_url: str, email: str) -> tuple[requests.Session, dict]:
    """A new student's session with its bearer token, and the tokens (with the user) from sign-in."""
    session = requests.Session()
    assert (
        session.post(
            f"{server_url}/api/auth/register", json={"email": email, "password": TEST_PASSWORD, "name": "Worker Test"}
        ).status_code
        == 201
    )
    tokens = session.post(f"{server_url}/api/auth/login", json={"email": email, "password": TEST_PASSWORD}).json()
    session.headers["Authorization"] = f"Bearer {tokens['access']}"
    return session, tokens


def test_an_enroll_produces_exactly_one_email_and_one_audit_record(server_url, celery_worker, make_course):
    course = make_course(title="Compilers")
    email = unique_email("e2e")
    session, tokens = signed_in_session(server_url, email)

    response = session.post(f"{server_url}/api/enrollments", json={"course_id": course.course_id})
    assert response.status_code == 201
    enrollment_id = response.json()["enrollment_id"]

    assert wait_for(lambda: len(audit_records("enrollment", enrollment_id)) >= 1, timeout=30)
    assert wait_for(lambda: emails_mentioning(email) >= 1, timeout=30)
    time.sleep(REDELIVERY_SECONDS)  # long enough for a redelivered duplicate to show up, if there were one
    [record] = audit_records("enrollment", enrollment_id)
    assert (record.action, record.actor_id) == ("enrolled", tokens["user"]["user_id"])
    assert emails_mentioning(email) == 1


def test_the_worker_logs_the_tasks_of_an_enroll_under_the_enrolls_request_id(server_url, celery_worker, make_course):
    course = make_course(title="Operating Systems")
    session, _ = signed_in_session(server_url, unique_email("e2e-log"))
    request_id = f"e2e-{uuid.uuid4().hex}"
    response = session.post(
        f"{server_url}/api/enrollments", json={"course_id": course.course_id}, headers={"X-Request-Id": request_id}
    )
    assert (response.status_code, response.headers["X-Request-Id"]) == (201, request_id)

    def tasks_finished_under_the_request_id() -> set[str]:
        """Names of the tasks whose "succeeded" line (written by the pool process running it) has the id."""
        return {
            match["task"]
            for line in worker_log_lines(celery_worker)
            if line.get("request_id") == request_id and (match := SUCCEEDED_LINE.match(line["message"]))
        }

    assert wait_for(
        lambda: tasks_finished_under_the_request_id() == {"audit.record_event", "enrollments.send_enrollment_email"},
        timeout=30,
        interval=0.5,
    )


def publish_audit_event(event_id: str, actor: str, *, connection: Connection | None = None) -> None:
    """An audit record's task, published to the suite's broker or to `connection`'s."""
    app.send_task(
        "audit.record_event",
        task_id=event_id,
        connection=connection,
        kwargs={
            "event_id": event_id,
            "entity_type": "course",
            "entity_id": f"course-of-{event_id}",
            "action": "updated",
            "actor_id": actor,
            "occurred_at": datetime.now(UTC).isoformat(),
            "before": {"title": "a"},
            "after": {"title": "b"},
        },
    )


def test_a_worker_killed_in_the_middle_of_a_task_still_records_it_exactly_once(celery_worker, worker_dynamodb_proxy):
    """The worker's requests to DynamoDB are held in flight, so its tasks are caught in the middle of
    their PutItem; the worker is killed with SIGKILL and the held requests dropped, then the worker
    starts again. The tasks come back after the visibility timeout because they were never
    acknowledged, and each event is recorded exactly once."""
    actor = f"sigkill-{uuid.uuid4().hex[:8]}"
    event_ids = [f"{actor}-{number}" for number in range(4)]
    worker_dynamodb_proxy.pause()
    try:
        for event_id in event_ids:
            publish_audit_event(event_id, actor)
        assert wait_for(lambda: f"{event_ids[0]}] received" in celery_worker.log_tail(200), timeout=20)
        time.sleep(1)  # inside the PutItem, its request held by the proxy
        celery_worker.kill()
        worker_dynamodb_proxy.sever()
    finally:
        worker_dynamodb_proxy.resume()

    def recorded() -> int:
        return AuditRecord.by_actor.count(actor)

    assert recorded() == 0  # the killed attempts wrote nothing
    celery_worker.start(timeout=60)
    assert wait_for(lambda: recorded() >= len(event_ids), timeout=60, interval=0.5)
    time.sleep(REDELIVERY_SECONDS)
    records = list(AuditRecord.by_actor.query(actor))
    assert sorted(record.audit_id for record in records) == sorted(event_ids)


def test_a_worker_killed_while_sending_an_email_sends_it_exactly_once(
    celery_worker, worker_dynamodb_proxy, student, make_course
):
    """The email task is caught claiming its ledger entry (its DynamoDB request held), the worker is
    killed, and the task runs again after the visibility timeout: one email."""
    course = make_course(title="Databases")
    event_id = uuid.uuid4().hex
    worker_dynamodb_proxy.pause()
    try:
        app.send_task(
            "enrollments.send_enrollment_email",
            task_id=event_id,
            kwargs={
                "event_id": event_id,
                "action": "enrolled",
                "user_id": student.user_id,
                "course_id": course.course_id,
                "enrollment": {"enrollment_id": f"{student.user_id}#{course.course_id}", "enrolled_at": "now"},
            },
        )
        assert wait_for(lambda: f"{event_id}] received" in celery_worker.log_tail(200), timeout=20)
        time.sleep(1)
        celery_worker.kill()
        worker_dynamodb_proxy.sever()
    finally:
        worker_dynamodb_proxy.resume()
    assert emails_mentioning(event_id) == 0
    celery_worker.start(timeout=60)
    assert wait_for(lambda: emails_mentioning(event_id) >= 1, timeout=60, interval=0.5)
    time.sleep(REDELIVERY_SECONDS)
    assert emails_mentioning(event_id) == 1
