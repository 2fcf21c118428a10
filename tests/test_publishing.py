"""A request's tasks go to the real broker together, after its response (courseproject/background/dispatch.py).
The broker's outages: test_background.py (TestBrokerOutage)."""

from __future__ import annotations

import orjson
import pytest
import redis
from kombu.transport.redis import PublishBatch

from courseproject.observability.task_request_id import REQUEST_ID_HEADER


@pytest.fixture
def flushed_batches(monkeypatch) -> list[int]:
    """The number of broker commands each publish batch sent in one round trip."""
    batches: list[int] = []
    flush = PublishBatch.flush

    def counting_flush(self: PublishBatch) -> None:
        if self._buffered:
            batches.append(self._buffered)
        flush(self)

    monkeypatch.setattr(PublishBatch, "flush", counting_flush)
    return batches


def queued(broker: redis.Redis) -> list[tuple[str, str | None]]:
    headers = [orjson.loads(message)["headers"] for message in broker.lrange("celery", 0, -1)]
    return sorted((header["task"], header.get(REQUEST_ID_HEADER)) for header in headers)


def test_an_enrolls_tasks_reach_the_broker_in_one_batch_under_its_request_id(
    publishing, flushed_batches, student, make_course
):
    course = make_course()
    publishing.delete("celery")  # the course's own audit record
    response = student.client.post(
        "/api/enrollments", {"course_id": course.course_id}, format="json", HTTP_X_REQUEST_ID="enroll-batch-1"
    )
    assert response.status_code == 201
    assert queued(publishing) == [
        ("audit.record_event", "enroll-batch-1"),
        ("enrollments.send_enrollment_email", "enroll-batch-1"),
    ]
    assert flushed_batches == [2]


def test_a_request_with_one_task_publishes_it_alone(publishing, flushed_batches, instructor, make_course):
    course = make_course(owner=instructor)
    publishing.delete("celery")
    response = instructor.client.patch(
        f"/api/courses/{course.course_id}",
        {"description": "Revised."},
        format="json",
        HTTP_X_REQUEST_ID="course-edit-1",
    )
    assert response.status_code == 200
    assert queued(publishing) == [("audit.record_event", "course-edit-1")]
    assert flushed_batches == []
