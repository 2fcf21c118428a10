"""One error format for the whole API.

Field errors:  400 {"field": ["message", ...]}, or by item for a list: {"field": {"2": {"end": ["message"]}}}
Anything else: {"detail": "human message", "code": "machine_code"}

Services raise `DomainError` subclasses; they know nothing of HTTP beyond a status code, so the admin
and management commands can catch them just as well. DynamoDB being unreachable becomes a 503.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import status
from rest_framework.exceptions import APIException, NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from courseproject.api.outages import is_dynamodb_outage

logger = logging.getLogger(__name__)


class DomainError(Exception):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"
    default_detail = "The request is not valid."

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        field: str | None = None,
        context: dict[str, Any] | None = None,
    ) -> None:
        self.detail = detail or self.default_detail
        self.code = code or self.default_code
        # Set when the error belongs to one input field; rendered as {"field": ["detail"]}.
        self.field = field
        # What a client needs to act on the refusal (the deadline that passed, the missing courses),
        # rendered beside detail and code.
        self.context = context or {}
        super().__init__(self.detail)


class InvalidInputError(DomainError):
    pass


class AuthenticationError(DomainError):
    """Bad credentials on the auth endpoints (which take no token, so DRF's AuthenticationFailed would
    become a 403 there)."""

    status_code = status.HTTP_401_UNAUTHORIZED
    default_code = "invalid_credentials"
    default_detail = "Email or password is incorrect."


class NotFoundError(DomainError):
    status_code = status.HTTP_404_NOT_FOUND
    default_code = "not_found"
    default_detail = "Not found."


class PermissionDeniedError(DomainError):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = "permission_denied"
    default_detail = "You do not have permission to perform this action."


class ConflictError(DomainError):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = "The request conflicts with the current state."


class ServiceUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "service_unavailable"
    default_detail = "The service is temporarily unavailable; please retry."


def error_body(detail: str, code: str) -> dict[str, str]:
    return {"detail": str(detail), "code": code}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        if exc.field:
            return Response({exc.field: [exc.detail]}, status=exc.status_code)
        return Response({**error_body(exc.detail, exc.code), **exc.context}, status=exc.status_code)

    if is_dynamodb_outage(exc):
        logger.exception("DynamoDB unavailable while serving %s", context.get("request") and context["request"].path)
        exc = ServiceUnavailable(code="dynamodb_unavailable")
    # Django's own (DRF raises Http404 for an unknown ?format=): as DRF's handler converts them, but
    # before the checks below, so that their bodies carry a code too.
    if isinstance(exc, Http404):
        exc = NotFound(*exc.args)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = PermissionDenied(*exc.args)

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a bug: let Django log it and answer with handler500's JSON

    if isinstance(exc, ValidationError) and isinstance(exc.detail, dict):
        # Already {"field": ["message"]}; a list's item errors are keyed by position, which JSON needs as text.
        response.data = _with_text_keys(response.data)
        return response
    if isinstance(exc, ValidationError):
        messages = exc.detail if isinstance(exc.detail, list) else [exc.detail]
        response.data = error_body(" ".join(str(message) for message in messages), "invalid")
        return response
    if isinstance(exc, APIException):
        codes = exc.get_codes()
        response.data = error_body(str(exc.detail), codes if isinstance(codes, str) else exc.default_code)
    return response


def _with_text_keys(errors: Any) -> Any:
    """{"prerequisites": {0: [...]}} as {"prerequisites": {"0": [...]}}: orjson refuses other keys."""
    if isinstance(errors, dict):
        return {str(key): _with_text_keys(value) for key, value in errors.items()}
    if isinstance(errors, list):
        return [_with_text_keys(value) for value in errors]
    return errors


def json_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(error_body("Not found.", "not_found"), status=404)


def json_server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse(error_body("Internal server error.", "server_error"), status=500)


def json_bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(error_body("Bad request.", "bad_request"), status=400)


def json_permission_denied(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(error_body("Permission denied.", "permission_denied"), status=403)
