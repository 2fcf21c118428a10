"""Shapes shared by the OpenAPI description of every app, and the AutoSchema that adds to every
operation the answers no view declares: those the framework gives to any request."""

from __future__ import annotations

from typing import Any

from drf_spectacular import openapi
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema_serializer
from rest_framework import permissions, serializers

from courseproject.api.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from courseproject.api.parsing import MAX_NESTING_DEPTH


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()


def error_response(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


def page_of(item_serializer: type[serializers.Serializer], name: str) -> type[serializers.Serializer]:
    """A named page serializer: {"results": [...], "next_cursor": "..." | null}. One page, never a list
    of pages, even as the answer of a viewset's list action (which drf-spectacular wraps in an array)."""
    page = type(
        name,
        (serializers.Serializer,),
        {
            "results": item_serializer(many=True),
            "next_cursor": serializers.CharField(allow_null=True),
        },
    )
    return extend_schema_serializer(many=False)(page)


PAGE_PARAMETERS = [
    OpenApiParameter(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": DEFAULT_PAGE_SIZE},
        description=f"Page size, 1 to {MAX_PAGE_SIZE} (default {DEFAULT_PAGE_SIZE}).",
    ),
    OpenApiParameter("cursor", str, description="The `next_cursor` of the previous page."),
]


# A cached read's conditional GET (courseproject/api/conditional.py); AutoSchema adds its 304 and ETag.
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    str,
    location=OpenApiParameter.HEADER,
    description="The ETag of a copy the client holds (or several, or *): 304 without a body if it is current.",
)
ETAG = {
    "ETag": {
        "schema": {"type": "string"},
        "required": True,
        "description": "A digest of the body's exact bytes: any change of the answer (a seat taken) changes it.",
    }
}
NOT_MODIFIED = "Not Modified: the copy If-None-Match named is current; no body, the same ETag."


class PageQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=MAX_PAGE_SIZE, default=DEFAULT_PAGE_SIZE)
    cursor = serializers.CharField(max_length=4096, required=False, allow_blank=True)


FIELD_ERRORS_SCHEMA = {
    "type": "object",
    "description": 'Field errors: {"field": ["message", ...]}; the items of a list by position, '
    'as {"meetings": {"1": {"end": ["message"]}}}.',
    "additionalProperties": {
        "oneOf": [
            {"type": "array", "items": {"type": "string"}},
            {"$ref": "#/components/schemas/FieldErrors"},
        ]
    },
}
# What each answer the framework gives means; AutoSchema says which operations can get which.
FRAMEWORK_ANSWERS = {
    "400": "Field errors, or an error: parse_error (not JSON), nested_too_deeply (arrays and objects nested "
    f"more than {MAX_NESTING_DEPTH} deep), invalid.",
    "401": "No valid access token: not_authenticated, token_invalid, token_expired, token_revoked.",
    "403": "permission_denied: the caller's role may not do this.",
    "404": "not_found: no such record, or an id the path does not take.",
    "406": "not_acceptable: the Accept header allows no JSON.",
    "413": "request_too_large: a body over the size limit.",
    "415": "unsupported_media_type: a body that is not application/json.",
    "429": "throttled: too many requests; retry after Retry-After seconds.",
    "503": "dynamodb_unavailable: retry later.",
}
RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait before trying again."}}
# Permissions that let every signed-in caller (or anyone) through: any other can refuse with a 403.
SIGNED_IN_OR_ANYONE = (permissions.AllowAny, permissions.IsAuthenticated)


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's AutoSchema, documenting besides what each view declares the answers any
    request can get, so that the document holds every answer the API gives and views need not repeat
    them (FRAMEWORK_ANSWERS). A 400 a view declares keeps its description and gets the true shape:
    field errors or an error. An operation that takes IF_NONE_MATCH gets its 304 and the ETag header."""

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation["responses"]
        for status_code in self._framework_answers(operation):
            if status_code not in responses:
                responses[status_code] = self._error_answer(status_code, FRAMEWORK_ANSWERS[status_code])
        if "400" in responses:
            responses["400"]["content"] = self._error_answer("400", "")["content"]
        if "429" in responses:
            responses["429"]["headers"] = RETRY_AFTER
        if any(parameter.get("name") == IF_NONE_MATCH.name for parameter in operation.get("parameters", [])):
            responses["200"]["headers"] = ETAG
            responses["304"] = {"description": NOT_MODIFIED, "headers": ETAG}
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _framework_answers(self, operation: dict[str, Any]) -> list[str]:
        has_body = "requestBody" in operation
        has_query = any(parameter.get("in") == "query" for parameter in operation.get("parameters", []))
        answers = []
        if has_body or has_query:
            answers.append("400")
        if self.view.get_authenticators():  # even where anyone may call, a token that is sent is checked
            answers.append("401")
        if any(not isinstance(permission, SIGNED_IN_OR_ANYONE) for permission in self.view.get_permissions()):
            answers.append("403")
        if "{" in self.path:
            answers.append("404")
        answers.append("406")
        if has_body:
            answers += ["413", "415"]
        if self.view.get_throttles():
            answers.append("429")
        answers.append("503")
        return answers

    def _error_answer(self, status_code: str, description: str) -> dict[str, Any]:
        error = self.resolve_serializer(ErrorSerializer, "response").ref
        if status_code == "400":
            field_errors = ResolvedComponent(
                name="FieldErrors", type=ResolvedComponent.SCHEMA, object="FieldErrors", schema=FIELD_ERRORS_SCHEMA
            )
            self.registry.register_on_missing(field_errors)
            schema = {"oneOf": [error, field_errors.ref]}
        else:
            schema = error
        answer = {"content": {"application/json": {"schema": schema}}, "description": description}
        if status_code == "429":
            answer["headers"] = RETRY_AFTER
        return answer
