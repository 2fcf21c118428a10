"""Bodies no client should send, on every operation that takes one: nested too deep, not an object,
not JSON, not UTF-8, of another content type. Each is a 4xx JSON error in the contract's shape,
never a 500."""

from __future__ import annotations

import pytest
from django.test import override_settings
from drf_spectacular.generators import SchemaGenerator

from accounts.models import User
from courseproject.api.parsing import MAX_NESTING_DEPTH, nests_deeper_than
from tests.conftest import authenticated_client


def nested(depth: int) -> str:
    """A JSON value `depth` arrays and objects deep, alternating: [{"a": [{"a": ... 1 ...}]}]."""
    opening = "".join("[" if level % 2 == 0 else '{"a": ' for level in range(depth))
    closing = "".join("]" if level % 2 == 0 else "}" for level in reversed(range(depth)))
    return f"{opening}1{closing}"


def send(client, method: str, path: str, body: bytes, content_type: str = "application/json"):
    return client.generic(method, path, body, content_type=content_type)


def assert_json_error(response, status: int | None = None) -> None:
    """A 4xx in the contract's shape: {"detail", "code"}, or field errors {"field": [...]}."""
    assert response.status_code < 500, response.content
    if status is not None:
        assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert isinstance(body, dict) and body
    assert "code" in body or all(isinstance(messages, list | dict) for messages in body.values()), body


@pytest.fixture
def nesting_targets(anonymous, student):
    """The three endpoints a deep body once crashed, each with the client that reaches its parser."""
    return [
        (anonymous, "POST", "/api/auth/login", "email"),
        (student.client, "POST", "/api/enrollments", "course_id"),
        (student.client, "PATCH", "/api/auth/me", "name"),
    ]


def test_a_body_nested_to_the_limit_is_parsed(nesting_targets):
    for client, method, path, field in nesting_targets:
        # The body's own object is one level.
        response = send(client, method, path, f'{{"{field}": {nested(MAX_NESTING_DEPTH - 1)}}}'.encode())
        assert_json_error(response, 400)
        assert response.json()[field] == ["Must be a string."]


@pytest.mark.parametrize("depth", [MAX_NESTING_DEPTH + 1, 300, 5000])
def test_a_body_nested_deeper_than_the_limit_is_a_400_at_every_depth(nesting_targets, depth):
    for client, method, path, field in nesting_targets:
        response = send(client, method, path, f'{{"{field}": {nested(depth - 1)}}}'.encode())
        assert_json_error(response, 400)
        assert response.json()["code"] == "nested_too_deeply", (path, depth)


def test_a_body_nested_100000_deep_is_refused_by_size_or_by_depth(nesting_targets):
    body = ("[" * 100_000 + "]" * 100_000).encode()
    for client, method, path, _field in nesting_targets:
        assert send(client, method, path, body).json()["code"] == "request_too_large"
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024 * 1024):
        for client, method, path, _field in nesting_targets:
            response = send(client, method, path, body)
            assert_json_error(response, 400)
            assert response.json()["code"] == "nested_too_deeply"


def test_brackets_inside_strings_are_text_not_nesting(anonymous, student):
    deep_text = "[{" * 60
    response = send(
        anonymous, "POST", "/api/auth/login", f'{{"email": "{student.user.email}", "password": "{deep_text}"}}'.encode()
    )
    assert response.status_code == 401
    assert not nests_deeper_than(b'{"a": "\\"[[[[", "b": "\\\\", "c": [1]}', 2)
    assert nests_deeper_than(b'{"a": "\\\\", "b": [[1]]}', 2)


def body_operations() -> list[tuple[str, str]]:
    """(method, path) of every operation of the OpenAPI document that takes a body."""
    document = SchemaGenerator().get_schema(request=None, public=True)
    return [
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation
    ]


ODD_BODIES = [
    (b"[]", "application/json"),
    (b'"x"', "application/json"),
    (b"null", "application/json"),
    (b"17", "application/json"),
    (b"", "application/json"),
    (b'{"x": 1e999}', "application/json"),
    (b'{"x": NaN}', "application/json"),
    (b'{"x": 123456789012345678901234567890}', "application/json"),
    (b'{"x": "\\ud800"}', "application/json"),
    (b"\xff\xfe{}", "application/json"),
    (b'\xef\xbb\xbf{"x": 1}', "application/json"),
    (b"{not json", "application/json"),
    (b"x=1", "application/x-www-form-urlencoded"),
    (b"--b\r\n\r\n--b--", "multipart/form-data; boundary=b"),
    (b"{}", "text/plain"),
    (b"{}", "application/json; charset=latin-1"),
]


@pytest.mark.parametrize(("body", "content_type"), ODD_BODIES)
def test_odd_bodies_are_4xx_json_errors_on_every_operation_that_takes_a_body(
    body, content_type, student, admin, make_course
):
    course_id = make_course().course_id
    for method, template in body_operations():
        path = template.replace("{course_id}", course_id).replace("{semester_id}", "20261")
        for person in (student, admin):
            response = send(person.client, method, path, body, content_type)
            if response.status_code >= 300:
                assert_json_error(response)


# JSON texts of every type, and numbers at and past what Python, orjson and DynamoDB hold.
ODD_VALUES = [
    "1e308",
    "-9223372036854775809",
    "18446744073709551616",
    "1" + "0" * 30,
    "1.5",
    "true",
    "[]",
    "{}",
    '""',
    '"' + "x" * 5000 + '"',
    nested(MAX_NESTING_DEPTH - 1),
]


@pytest.mark.parametrize("value", ODD_VALUES)
def test_a_value_of_any_type_in_any_field_is_never_a_500(value, student, admin, make_course):
    course_id = make_course().course_id
    document = SchemaGenerator().get_schema(request=None, public=True)
    for method, template in body_operations():
        schema = document["paths"][template][method.lower()]["requestBody"]["content"]["application/json"]["schema"]
        fields = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]].get("properties", {})
        path = template.replace("{course_id}", course_id).replace("{semester_id}", "20261")
        for field in fields:
            for person in (student, admin):
                # Signed in afresh: an earlier body may have signed the person out everywhere.
                client = authenticated_client(User.get(person.user_id))
                response = send(client, method, path, f'{{"{field}": {value}}}'.encode())
                if response.status_code >= 300:
                    assert_json_error(response)
