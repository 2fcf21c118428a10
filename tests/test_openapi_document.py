"""The OpenAPI document tells the truth about answers no view declares (tests/test_schema_fuzz.py
holds every real answer to it): the framework's errors on every operation, in the API's one error
format, and lists as one page."""

from __future__ import annotations

from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator

BAD_REQUEST = {"oneOf": [{"$ref": "#/components/schemas/Error"}, {"$ref": "#/components/schemas/FieldErrors"}]}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, path_item in document["paths"].items()
        for method, operation in path_item.items()
    ]


def answer_schema(operation: dict[str, Any], status: str) -> dict[str, Any]:
    return operation["responses"][status]["content"]["application/json"]["schema"]


def test_every_operation_documents_the_answers_any_request_can_get(document):
    for method, path, operation in operations(document):
        responses = operation["responses"]
        label = f"{method} {path}"
        assert {"406", "503"} <= responses.keys(), label
        if any(operation.get("security", [])):  # [{}] is "no token needed"
            assert "401" in responses, label
        if "{" in path:
            assert "404" in responses, label
        if "requestBody" in operation:
            assert {"400", "413", "415"} <= responses.keys(), label
        if any(parameter["in"] == "query" for parameter in operation.get("parameters", [])):
            assert "400" in responses, label


def test_a_400_is_field_errors_or_an_error_wherever_it_is_documented(document):
    for method, path, operation in operations(document):
        if "400" in operation["responses"]:
            assert answer_schema(operation, "400") == BAD_REQUEST, f"{method} {path}"
    field_errors = document["components"]["schemas"]["FieldErrors"]
    assert field_errors["additionalProperties"]["oneOf"][1] == {"$ref": "#/components/schemas/FieldErrors"}


def test_errors_other_than_400_are_the_error_format(document):
    for method, path, operation in operations(document):
        for status, answer in operation["responses"].items():
            if status >= "401" and path != "/api/health":
                assert answer["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}, (
                    f"{method} {path} {status}"
                )


def test_a_throttled_answer_documents_retry_after(document):
    throttled = [operation for _, _, operation in operations(document) if "429" in operation["responses"]]
    assert throttled
    for operation in throttled:
        assert "Retry-After" in operation["responses"]["429"]["headers"]


def test_role_restricted_operations_document_403_and_open_ones_do_not(document):
    paths = document["paths"]
    assert "403" in paths["/api/semesters"]["post"]["responses"]
    assert "403" not in paths["/api/semesters"]["get"]["responses"]
    assert "401" not in paths["/api/health"]["get"]["responses"]


@pytest.mark.parametrize(("path", "page"), [("/api/courses", "CoursePage"), ("/api/semesters", "SemesterPage")])
def test_a_list_is_documented_as_one_page(document, path, page):
    assert answer_schema(document["paths"][path]["get"], "200") == {"$ref": f"#/components/schemas/{page}"}


def test_the_health_check_documents_its_503_with_its_own_body(document):
    operation = document["paths"]["/api/health"]["get"]
    assert answer_schema(operation, "503") == {"$ref": "#/components/schemas/Health"}
