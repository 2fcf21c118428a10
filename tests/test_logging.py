"""JSON log lines as production writes them, and the request id on each."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable, Iterator

import orjson
import pytest

from courseproject.observability.logs import JsonFormatter, request_id_bound

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
