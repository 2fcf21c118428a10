"""JSON log lines as production writes them, the request id on each, and the request id carried
into the Celery tasks a request caused."""

from __future__ import annotations

import io
import logging
import re
import uuid
from collections.abc import Callable, Iterator
from functools import partial

import orjson
import pytest
from celery.signals import task_prerun
from celery.worker.request import Request
from kombu import Connection
from kombu.message import Message

from courseproject.background.models import OutboxEvent
from courseproject.background.outbox import relay_pending, save_to_outbox
from courseproject.celery import app as celery_app
from courseproject.observability.logs import JsonFormatter, request_id_bound, request_id_var
from courseproject.observability.task_request_id import REQUEST_ID_HEADER
from enrollments.admission import WRITE_SLOTS

ISO_8601_UTC_MILLISECONDS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00")

JsonLines = Callable[[], list[dict]]


def capture_json_lines(logger_name: str) -> Iterator[JsonLines]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield lambda: [orjson.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)
    logger.setLevel(level)


@pytest.fixture
def request_log() -> Iterator[JsonLines]:
    yield from capture_json_lines("courseproject.requests")


@pytest.fixture
def test_log() -> Iterator[JsonLines]:
    yield from capture_json_lines("tests.logging")


@celery_app.task(name="tests.log_one_line")
def log_one_line(text: str) -> None:
    logging.getLogger("tests.logging").info(text)


def test_each_request_is_one_json_line_with_id_route_status_and_duration(student, make_course, request_log):
    course = make_course()
    response = student.client.get(f"/api/courses/{course.course_id}")
    [line] = request_log()
    assert line["request_id"] == response["X-Request-Id"]
    assert (line["method"], line["route"], line["status"]) == ("GET", "api/courses/<id:course_id>", 200)
    assert line["path"] == f"/api/courses/{course.course_id}"
    assert line["user_id"] == student.user_id
    assert line["duration_ms"] > 0
    assert line["level"] == "INFO" and line["logger"] == "courseproject.requests"


def test_the_load_balancers_request_id_is_kept_and_a_forged_one_replaced(anonymous, request_log):
    kept = anonymous.get("/api/health", HTTP_X_REQUEST_ID="Root=1-5759e988-bd862e3fe1be46a994272793")
    assert kept["X-Request-Id"] == "Root=1-5759e988-bd862e3fe1be46a994272793"
    replaced = anonymous.get("/api/health", HTTP_X_REQUEST_ID="<script>alert(1)</script>")
    assert replaced["X-Request-Id"] != "<script>alert(1)</script>"
    assert [line["request_id"] for line in request_log()] == [kept["X-Request-Id"], replaced["X-Request-Id"]]


def test_an_unmatched_path_is_logged_without_a_route(anonymous, request_log):
    anonymous.get("/no/such/page")
    [line] = request_log()
    assert (line["status"], line.get("route")) == (404, None)


def test_a_write_refused_before_authentication_is_logged_with_its_route(settings, student, request_log):
    settings.WEB_WRITE_SLOTS, settings.WEB_WRITE_QUEUE = 1, 0
    assert WRITE_SLOTS.take()  # as by a write in flight: slots and queue full
    try:
        response = student.client.delete("/api/enrollments/CS-101")
    finally:
        WRITE_SLOTS.give_back()
    [line] = request_log()
    assert (line["method"], line["route"], line["status"]) == ("DELETE", "api/enrollments/<id:course_id>", 429)
    assert line["request_id"] == response["X-Request-Id"]
    assert line.get("user_id") is None  # refused before the token was read


def test_a_line_has_time_level_logger_message_and_the_extra_fields_a_caller_passes(test_log):
    logging.getLogger("tests.logging").warning(
        "Seat count of %s repaired", "c-1", extra={"course_id": "c-1", "seats": 3, "semester": None}
    )
    [line] = test_log()
    assert ISO_8601_UTC_MILLISECONDS.fullmatch(line.pop("time"))
    assert line == {
        "level": "WARNING",
        "logger": "tests.logging",
        "message": "Seat count of c-1 repaired",
        "course_id": "c-1",
        "seats": 3,
    }


def test_an_exception_is_logged_with_its_stack_trace(test_log):
    with request_id_bound("stack-trace-request"):
        try:
            {}["missing"]
        except KeyError:
            logging.getLogger("tests.logging").exception("Lookup failed")
    [line] = test_log()
    assert (line["level"], line["message"], line["request_id"]) == ("ERROR", "Lookup failed", "stack-trace-request")
    assert line["exception"].startswith("Traceback (most recent call last):")
    assert "KeyError: 'missing'" in line["exception"]


def test_only_lines_written_for_a_request_carry_a_request_id(test_log):
    logger = logging.getLogger("tests.logging")
    with request_id_bound("outer-request"):
        logger.info("inside")
    logger.info("outside")
    assert [line.get("request_id") for line in test_log()] == ["outer-request", None]


@pytest.fixture
def memory_broker() -> Iterator[Connection]:
    """An in-memory broker: the messages a worker would get, without one taking them first."""
    with Connection("memory://") as connection:
        yield connection


def messages_in(connection: Connection, queue_name: str) -> list[Message]:
    with connection.SimpleQueue(queue_name) as queue:
        return [queue.get_nowait() for _ in range(queue.qsize())]


def published_message(connection: Connection, *, request_id: str | None, text: str) -> Message:
    """Publish `log_one_line(text)` under `request_id`; the message a worker would get."""
    queue_name = f"tests-{uuid.uuid4().hex}"
    with request_id_bound(request_id):
        celery_app.send_task(log_one_line.name, kwargs={"text": text}, connection=connection, queue=queue_name)
    [message] = messages_in(connection, queue_name)
    return message


@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")
def test_a_task_published_for_a_request_carries_its_id_in_a_message_header(memory_broker):
    message = published_message(memory_broker, request_id="publishing-request", text="-")
    assert message.headers[REQUEST_ID_HEADER] == "publishing-request"
    assert REQUEST_ID_HEADER not in published_message(memory_broker, request_id=None, text="-").headers


@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")
def test_the_worker_logs_a_task_under_the_request_id_of_its_message(memory_broker, test_log):
    message = published_message(memory_broker, request_id="worker-request", text="sending the confirmation")
    Request(message, app=celery_app).execute()  # what a worker's pool process does with the message
    [line] = test_log()
    assert (line["message"], line["request_id"]) == ("sending the confirmation", "worker-request")
    assert request_id_var.get() is None  # let go after the task: the next task starts clean


def test_a_requests_tasks_are_published_after_its_response_under_its_id(student, make_course, settings, monkeypatch):
    """dispatch() holds a request's tasks until its response is sent, when the middleware has let go
    of the id; each task is still published (here: run inline, as the header test covers the message)
    under the request's id."""
    # Celery keeps running tasks inline (pinned first: its configuration reads the Django setting)...
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    settings.CELERY_TASK_ALWAYS_EAGER = False  # ...while dispatch waits for the response, as in production
    course = make_course()
    ids_seen_by_tasks: dict[str, str | None] = {}

    def record_request_id(*, task, **_) -> None:
        ids_seen_by_tasks[task.name] = request_id_var.get()

    task_prerun.connect(record_request_id, weak=False)
    try:
        response = student.client.post(
            "/api/enrollments", {"course_id": course.course_id}, format="json", HTTP_X_REQUEST_ID="enroll-request-1"
        )
    finally:
        task_prerun.disconnect(record_request_id)
    assert response.status_code == 201
    assert ids_seen_by_tasks == {
        "audit.record_event": "enroll-request-1",
        "enrollments.send_enrollment_email": "enroll-request-1",
    }


@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")
def test_a_task_kept_in_the_outbox_is_relayed_under_the_request_id_it_was_published_for(memory_broker, monkeypatch):
    event_id = uuid.uuid4().hex
    with request_id_bound("outbox-request"):
        save_to_outbox(task_name=log_one_line.name, event_id=event_id, task_kwargs={"text": "relayed"})
    assert OutboxEvent.get(f"{event_id}:{log_one_line.name}").request_id == "outbox-request"

    queue_name = f"tests-{uuid.uuid4().hex}"
    send_to_memory_broker = partial(celery_app.send_task, connection=memory_broker, queue=queue_name)
    monkeypatch.setattr(celery_app, "send_task", send_to_memory_broker)
    relay_pending()
    relayed = {message.headers["id"]: message.headers for message in messages_in(memory_broker, queue_name)}
    assert relayed[f"{event_id}:{log_one_line.name}"][REQUEST_ID_HEADER] == "outbox-request"


def test_the_request_line_names_the_client_address_num_proxies_from_the_end(anonymous, request_log, settings):
    anonymous.get("/api/health", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="203.0.113.9")
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    anonymous.get("/api/health", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.9")
    # Without proxies the header is the client's to forge; behind one, its last entry is the client.
    assert [line["client_address"] for line in request_log()] == ["10.0.0.5", "203.0.113.9"]


@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")
def test_task_arguments_reach_the_worker_but_no_log_line(memory_broker, caplog):
    secret = "https://registration.example.edu/reset-password#single-use-token-8d3f"
    message = published_message(memory_broker, request_id="reset-request", text=secret)
    assert secret not in message.headers["argsrepr"] + message.headers["kwargsrepr"]
    assert message.headers["kwargsrepr"] == "{'text': …}"
    with caplog.at_level(logging.DEBUG):
        Request(message, app=celery_app).execute()  # logs "succeeded" as a worker does
    task_lines = [record for record in caplog.records if record.name != "tests.logging"]
    assert any("succeeded" in record.getMessage() for record in task_lines)
    for record in task_lines:  # the message and every extra Celery attaches (its `data`)
        assert secret not in record.getMessage() and secret not in repr(vars(record))
    assert [record.getMessage() for record in caplog.records if record.name == "tests.logging"] == [secret]
