"""Bad input of every kind is a 4xx JSON error in the contract's shape, never a 500."""

from __future__ import annotations

import pytest
from django.test import override_settings

from courseproject.dynamo.client import reset_dynamodb_client


def post_raw(client, path: str, body: bytes, content_type: str = "application/json"):
    return client.generic("POST", path, body, content_type=content_type)


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (b"{not json", "application/json", 400, "parse_error"),
        (b"", "application/json", 400, None),
        (b"null", "application/json", 400, None),
        (b"[1, 2]", "application/json", 400, None),
        (b'"a string"', "application/json", 400, None),
        (b'{"course_id": NaN}', "application/json", 400, "parse_error"),
        (b'{"course_id": "\\ud800"}', "application/json", 400, "parse_error"),
        (b'{"course_id": 1e999}', "application/json", 400, None),
        (b'{"course_id": 123456789012345678901234567890}', "application/json", 400, None),
        (b"\xff\xfe\x00", "application/json", 400, "parse_error"),
        (b"[" * 5000 + b"]" * 5000, "application/json", 400, None),
        (b"course_id=abc", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        (b"course_id", "text/plain", 415, "unsupported_media_type"),
    ],
)
def test_malformed_bodies_are_4xx(student, body, content_type, status, code):
    response = post_raw(student.client, "/api/enrollments", body, content_type)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    if code:
        assert response.json()["code"] == code


def test_an_oversized_body_is_413(student):
    body = b'{"course_id": "' + b"x" * (70 * 1024) + b'"}'
    response = post_raw(student.client, "/api/enrollments", body)
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


def test_an_unknown_path_is_a_json_404(anonymous):
    response = anonymous.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


def test_an_unknown_format_is_a_404_in_the_error_format(student):
    # DRF raises Django's Http404 for a ?format= it has no renderer for.
    response = student.client.get("/api/auth/me", {"format": "html"})
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


def test_an_accept_header_without_json_is_a_json_406(student):
    response = student.client.get("/api/auth/me", HTTP_ACCEPT="text/html")
    assert response.status_code == 406
    assert response.json()["code"] == "not_acceptable"


def test_a_wrong_method_is_a_json_405(student):
    response = student.client.put("/api/enrollments/me", {}, format="json")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_a_disallowed_host_is_a_json_400(anonymous):
    response = anonymous.get("/api/health", HTTP_HOST="evil.example.com")
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"


class TestDynamoDBDown:
    @pytest.fixture
    def dynamodb_unreachable(self):
        with override_settings(DYNAMODB_ENDPOINT_URL="http://127.0.0.1:9", DYNAMODB_MAX_ATTEMPTS=1):
            reset_dynamodb_client()
            yield
        reset_dynamodb_client()

    def test_reads_answer_503_in_json(self, student, dynamodb_unreachable):
        response = student.client.get("/api/courses", {"semester_id": 20261})
        assert response.status_code == 503
        assert response.json()["code"] == "dynamodb_unavailable"

    def test_writes_answer_503_in_json(self, student, dynamodb_unreachable):
        response = student.client.post("/api/enrollments", {"course_id": "abc"}, format="json")
        assert response.status_code == 503

    def test_health_reports_dynamodb_down_with_503(self, anonymous, dynamodb_unreachable):
        response = anonymous.get("/api/health")
        assert response.status_code == 503
        assert response.json() == {"status": "down", "dynamodb": "unavailable", "redis": "ok"}
