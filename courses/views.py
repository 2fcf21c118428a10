"""Course endpoints: the views parse input, call a selector or service, and respond."""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from django.http import HttpRequest, HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.permissions import IsInstructorOrAdmin
from accounts.throttling import WriteRateThrottle
from courseproject.api.conditional import revalidatable_json
from courseproject.api.errors import InvalidInputError
from courseproject.api.lean_reads import LeanAnswer, LeanReadsMixin
from courseproject.api.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from courseproject.api.schema import IF_NONE_MATCH, PAGE_PARAMETERS, error_response, page_of
from courses import selectors, services
from courses.serializers import (
    MAX_DEPARTMENT_ID,
    MAX_SEMESTER_ID,
    CourseCreateSerializer,
    CourseListQuerySerializer,
    CourseSerializer,
    CourseUpdateSerializer,
    course_representation,
)

CoursePageSerializer = page_of(CourseSerializer, "CoursePage")

# A positive integer written plainly (no sign, spaces, zero padding or decimals).
_PLAIN_NUMBER = re.compile(r"[1-9][0-9]{0,5}")
_SEMESTER_QUERY_LIMITS = {"semester_id": MAX_SEMESTER_ID, "department_id": MAX_DEPARTMENT_ID, "limit": MAX_PAGE_SIZE}


def plain_semester_query(query_string: str) -> dict[str, int] | None:
    """A semester list's usual query, read from the raw query string when each parameter comes once
    as a plain number in range, without DRF's serializer (~0.3 ms, a quarter of a cached hit) or
    Django's QueryDict (5 us). Anything else, valid or not (percent-encoding, a repeated or empty
    parameter), returns None and goes through CourseListQuerySerializer, which owns every rule and
    error message."""
    params: dict[str, int] = {}
    for part in query_string.split("&"):
        name, _, raw = part.partition("=")
        limit = _SEMESTER_QUERY_LIMITS.get(name)
        if limit is None or name in params or not _PLAIN_NUMBER.fullmatch(raw) or int(raw) > limit:
            return None
        params[name] = int(raw)
    return {"limit": DEFAULT_PAGE_SIZE, **params} if "semester_id" in params else None


class CourseViewSet(LeanReadsMixin, viewsets.ViewSet):
    lookup_field = "course_id"
    # Create, change and delete, per user; the lists and details (reads) pass untouched.
    throttle_classes = [WriteRateThrottle]

    def get_permissions(self):
        permissions = super().get_permissions()
        if self.action == "create":
            permissions.append(IsInstructorOrAdmin())
        return permissions

    @extend_schema(
        parameters=[
            OpenApiParameter("semester_id", int, description="Courses of this semester."),
            OpenApiParameter("department_id", int, description="With semester_id: only this department."),
            OpenApiParameter("instructor_id", str, description="Courses taught by this instructor."),
            *PAGE_PARAMETERS,
            IF_NONE_MATCH,
        ],
        responses={200: CoursePageSerializer, 400: error_response("filter_required, invalid_cursor")},
        summary="List a semester's or an instructor's courses",
    )
    def list(self, request: Request) -> HttpResponse:
        params = plain_semester_query(request.META.get("QUERY_STRING", ""))
        if params is None:
            query = CourseListQuerySerializer(data=request.query_params)
            query.is_valid(raise_exception=True)
            params = query.validated_data
        return self._course_page(request, params)

    def lean_list(self, request: HttpRequest) -> LeanAnswer | None:
        # Only the usual semester query; any other goes through DRF and the serializer's messages.
        params = plain_semester_query(request.META.get("QUERY_STRING", ""))
        return None if params is None else partial(self._course_page, request, params)

    def _course_page(self, request: HttpRequest, params: dict[str, Any]) -> HttpResponse:
        if params.get("instructor_id"):
            page_json = selectors.instructor_courses_json(
                instructor_id=params["instructor_id"], limit=params["limit"], cursor=params.get("cursor")
            )
        elif params.get("semester_id") is not None:
            page_json = selectors.course_list_json(
                semester_id=params["semester_id"],
                department_id=params.get("department_id"),
                limit=params["limit"],
                cursor=params.get("cursor"),
            )
        else:
            raise InvalidInputError(
                "Filter by semester_id (optionally with department_id) or by instructor_id.", code="filter_required"
            )
        return revalidatable_json(request, page_json, personal=False)

    @extend_schema(
        parameters=[IF_NONE_MATCH],
        responses={200: CourseSerializer, 404: error_response("course_not_found")},
        summary="One course",
    )
    def retrieve(self, request: HttpRequest, course_id: str) -> HttpResponse:
        return revalidatable_json(request, selectors.course_detail_json(course_id=course_id), personal=False)

    def lean_retrieve(self, request: HttpRequest, course_id: str) -> LeanAnswer:
        return partial(self.retrieve, request, course_id)

    @extend_schema(
        request=CourseCreateSerializer,
        responses={201: CourseSerializer, 403: error_response("permission_denied")},
        summary="Create a course (instructors for themselves, admins for any instructor)",
    )
    def create(self, request: Request) -> Response:
        serializer = CourseCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        course = services.create_course(actor=request.user, **serializer.validated_data)
        return Response(course_representation(course), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=CourseUpdateSerializer,
        responses={
            200: CourseSerializer,
            403: error_response("permission_denied"),
            404: error_response("course_not_found"),
            409: error_response("capacity_below_enrolled, course_has_enrollments"),
        },
        summary="Change a course (its instructor or an admin)",
    )
    def partial_update(self, request: Request, course_id: str) -> Response:
        serializer = CourseUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        course = services.update_course(actor=request.user, course_id=course_id, changes=serializer.validated_data)
        return Response(course_representation(course))

    @extend_schema(
        responses={
            204: None,
            403: error_response("permission_denied"),
            404: error_response("course_not_found"),
            409: error_response("course_has_enrollments"),
        },
        summary="Delete a course with no enrolled students (its instructor or an admin)",
    )
    def destroy(self, request: Request, course_id: str) -> Response:
        services.delete_course(actor=request.user, course_id=course_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
