"""Request ids and one JSON line per request, as production logs them."""

from __future__ import annotations

import io
import logging

import orjson
import pytest

from courseproject.observability.logs import JsonFormatter


@pytest.fixture
def request_log():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("courseproject.requests")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield lambda: [orjson.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)
    logger.setLevel(level)


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
