"""Semester endpoints: anyone signed in reads them; admins create and change them."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.permissions import IsAdmin
from courseproject.api.conditional import revalidatable_json
from courseproject.api.schema import IF_NONE_MATCH, PAGE_PARAMETERS, PageQuerySerializer, error_response, page_of
from semesters import selectors, services
from semesters.serializers import (
    SemesterCreateSerializer,
    SemesterSerializer,
    SemesterUpdateSerializer,
    semester_representation,
)

SemesterPageSerializer = page_of(SemesterSerializer, "SemesterPage")


class SemesterViewSet(viewsets.ViewSet):
    lookup_field = "semester_id"

    def get_permissions(self):
        permissions = super().get_permissions()
        if self.action in {"create", "partial_update"}:
            permissions.append(IsAdmin())
        return permissions

    @extend_schema(
        parameters=[*PAGE_PARAMETERS, IF_NONE_MATCH],
        responses={200: SemesterPageSerializer},
        summary="Semesters, newest first",
    )
    def list(self, request: Request) -> HttpResponse:
        query = PageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        page_json = selectors.semester_list_json(
            limit=query.validated_data["limit"], cursor=query.validated_data.get("cursor")
        )
        return revalidatable_json(request, page_json, personal=False)

    @extend_schema(
        parameters=[IF_NONE_MATCH],
        responses={200: SemesterSerializer, 404: error_response("semester_not_found")},
        summary="One semester",
    )
    def retrieve(self, request: Request, semester_id: int) -> HttpResponse:
        return revalidatable_json(request, selectors.semester_detail_json(semester_id=semester_id), personal=False)

    @extend_schema(
        request=SemesterCreateSerializer,
        responses={
            201: SemesterSerializer,
            403: error_response("permission_denied"),
            409: error_response("semester_exists"),
        },
        summary="Create a semester (admins)",
    )
    def create(self, request: Request) -> Response:
        serializer = SemesterCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        semester = services.create_semester(actor=request.user, **serializer.validated_data)
        return Response(semester_representation(semester), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=SemesterUpdateSerializer,
        responses={
            200: SemesterSerializer,
            403: error_response("permission_denied"),
            404: error_response("semester_not_found"),
            409: error_response("semester_changed"),
        },
        summary="Change a semester's name, window or credit limit (admins)",
    )
    def partial_update(self, request: Request, semester_id: int) -> Response:
        serializer = SemesterUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        semester = services.update_semester(
            actor=request.user, semester_id=semester_id, changes=serializer.validated_data
        )
        return Response(semester_representation(semester))
