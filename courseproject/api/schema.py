"""Shapes shared by the OpenAPI description of every app."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from courseproject.api.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()


def error_response(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


def page_of(item_serializer: type[serializers.Serializer], name: str) -> type[serializers.Serializer]:
    """A named page serializer: {"results": [...], "next_cursor": "..." | null}."""
    return type(
        name,
        (serializers.Serializer,),
        {
            "results": item_serializer(many=True),
            "next_cursor": serializers.CharField(allow_null=True),
        },
    )


PAGE_PARAMETERS = [
    OpenApiParameter("limit", int, description=f"Page size, 1 to {MAX_PAGE_SIZE} (default {DEFAULT_PAGE_SIZE})."),
    OpenApiParameter("cursor", str, description="The `next_cursor` of the previous page."),
]


class PageQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=MAX_PAGE_SIZE, default=DEFAULT_PAGE_SIZE)
    cursor = serializers.CharField(max_length=4096, required=False, allow_blank=True)
