"""Enrollment endpoints for the signed-in student."""

from __future__ import annotations

from dataclasses import asdict
from functools import partial
from typing import Any

from django.http import HttpRequest, HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsStudent
from accounts.throttling import WriteRateThrottle
from courseproject.api.conditional import revalidatable_json
from courseproject.api.lean_reads import LeanAnswer, LeanReadsMixin
from courseproject.api.pagination import DEFAULT_PAGE_SIZE
from courseproject.api.schema import IF_NONE_MATCH, PAGE_PARAMETERS, error_response, page_of
from enrollments import completions, selectors, services
from enrollments.admission import AdmittedWritesMixin
from enrollments.models import EnrollmentStatus
from enrollments.serializers import (
    CompletionsResultSerializer,
    CompletionsSerializer,
    EnrollmentSerializer,
    EnrollmentWithCourseSerializer,
    EnrollSerializer,
    MyEnrollmentsQuerySerializer,
    RosterEntrySerializer,
    RosterQuerySerializer,
    enrollment_representation,
)


class EnrollmentPageSerializer(page_of(EnrollmentWithCourseSerializer, "EnrollmentPageBase")):
    credits_by_semester = serializers.DictField(
        child=serializers.IntegerField(), help_text="Enrolled credits in each semester of the page, by semester id."
    )


RosterPageSerializer = page_of(RosterEntrySerializer, "RosterPage")
WRITES_429 = (
    "throttled: this user's writes are over their rate; or writes_busy: the server is making as many "
    "enrollment changes as it can and this one found no place in the queue or waited its turn too long "
    "(nothing was changed; while the server is that busy, this answer comes before the token is checked). "
    "Either way, send it again after Retry-After seconds."
)


class EnrollmentViewSet(LeanReadsMixin, AdmittedWritesMixin, viewsets.ViewSet):
    lookup_field = "course_id"
    # Enroll, drop, and joining or leaving a waitlist: per process (the mixin's write slots), then
    # per user; reads pass untouched.
    throttle_classes = [WriteRateThrottle]

    def get_permissions(self):
        permissions = super().get_permissions()
        if self.action == "create":
            permissions.append(IsStudent())
        return permissions

    @extend_schema(
        request=EnrollSerializer,
        responses={
            200: EnrollmentSerializer,
            201: EnrollmentSerializer,
            403: error_response("permission_denied"),
            404: error_response("course_not_found"),
            409: error_response(
                "The first rule that fails, in this order: registration_closed (with registration_opens_at and "
                "add_deadline), prerequisites_missing (missing_prerequisites), time_conflict "
                "(conflicting_course_id), credit_limit_exceeded (credit_limit, enrolled_credits), course_full "
                "(waitlist_open: whether waitlist: true would join the waitlist); with waitlist: true, then "
                "waitlist_full (waitlist_capacity), waitlist_limit_reached (max_waitlists); also "
                "already_completed, transaction_conflict"
            ),
            429: error_response(WRITES_429),
        },
        summary=(
            "Enroll in a course, or with waitlist: true join its waitlist when it is full (201 new, status "
            "enrolled or waitlisted; 200 if already enrolled or waitlisted, before any rule)"
        ),
    )
    def create(self, request: Request) -> Response:
        serializer = EnrollSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = services.enroll(
            actor=request.user,
            course_id=serializer.validated_data["course_id"],
            waitlist=serializer.validated_data["waitlist"],
        )
        body = selectors.with_waitlist_positions(
            [enrollment_representation(result.enrollment)], user_id=result.enrollment.user_id
        )[0]
        return Response(body, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)

    @extend_schema(
        responses={200: EnrollmentSerializer, 404: error_response("not_enrolled")},
        summary="The caller's enrollment in one course",
    )
    def retrieve(self, request: Request, course_id: str) -> Response:
        return Response(selectors.enrollment_for_student(user_id=request.user.user_id, course_id=course_id))

    @extend_schema(
        responses={
            204: None,
            404: error_response("not_enrolled"),
            409: error_response("drop_deadline_passed (with drop_deadline); leaving a waitlist has no deadline"),
            429: error_response(WRITES_429),
        },
        summary="Drop a course, or leave its waitlist",
    )
    def destroy(self, request: Request, course_id: str) -> Response:
        services.drop(actor=request.user, user_id=request.user.user_id, course_id=course_id)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        parameters=[
            OpenApiParameter("semester_id", int, description="Only this semester."),
            OpenApiParameter(
                "status", str, enum=[choice.value for choice in EnrollmentStatus], description="Only this status."
            ),
            *PAGE_PARAMETERS,
            IF_NONE_MATCH,
        ],
        responses={200: EnrollmentPageSerializer},
        summary="The caller's enrollments, newest first, each with its course",
    )
    @action(detail=False)
    def me(self, request: Request) -> HttpResponse:
        query = MyEnrollmentsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return self._my_page(request, query.validated_data)

    def lean_me(self, request: HttpRequest) -> LeanAnswer | None:
        # The first page of everything, as the serializer reads an empty query; any query goes through
        # it (read raw, so that the usual request builds no QueryDict).
        if request.META.get("QUERY_STRING"):
            return None
        return partial(self._my_page, request, {"limit": DEFAULT_PAGE_SIZE})

    def _my_page(self, request: HttpRequest, params: dict[str, Any]) -> HttpResponse:
        page_json = selectors.enrollments_for_student_json(
            user_id=request.user.user_id,
            semester_id=params.get("semester_id"),
            status=params.get("status"),
            limit=params["limit"],
            cursor=params.get("cursor"),
        )
        return revalidatable_json(request, page_json, personal=True)


# GET /api/courses/{course_id}/enrollments: under the course's path, but the enrollments' to answer.
# (No docstring: drf-spectacular would publish it as the operation's description.)
class CourseRosterView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "status",
                str,
                enum=[EnrollmentStatus.ENROLLED.value, EnrollmentStatus.WAITLISTED.value],
                description="enrolled (default): in enrollment order; waitlisted: the waitlist in order.",
            ),
            *PAGE_PARAMETERS,
            IF_NONE_MATCH,
        ],
        responses={200: RosterPageSerializer, 403: error_response("permission_denied")},
        summary="The students enrolled in a course, or waiting for it (its instructor or an admin)",
    )
    def get(self, request: Request, course_id: str) -> HttpResponse:
        query = RosterQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        page_json = selectors.roster_json(
            actor=request.user,
            course_id=course_id,
            status=query.validated_data["status"],
            limit=query.validated_data["limit"],
            cursor=query.validated_data.get("cursor"),
        )
        return revalidatable_json(request, page_json, personal=True)


# POST /api/courses/{course_id}/completions: the course's instructor or an admin, after the drop deadline.
class CourseCompletionsView(APIView):
    throttle_classes = [WriteRateThrottle]

    @extend_schema(
        request=CompletionsSerializer,
        responses={
            200: CompletionsResultSerializer,
            403: error_response("permission_denied"),
            404: error_response("course_not_found"),
            409: error_response("drop_deadline_not_passed"),
        },
        summary="Mark students' enrollments completed (the course's instructor or an admin)",
    )
    def post(self, request: Request, course_id: str) -> Response:
        serializer = CompletionsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = completions.complete_course(
            actor=request.user, course_id=course_id, user_ids=serializer.validated_data.get("user_ids")
        )
        return Response(asdict(result))
