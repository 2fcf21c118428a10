"""GET /api/health: is this instance able to serve? 503 only when DynamoDB is unreachable."""

from __future__ import annotations

import logging

from django_redis import get_redis_connection
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from courseproject.dynamo.client import dynamodb_client
from courseproject.dynamo.models import registered_models

logger = logging.getLogger(__name__)


def dynamodb_is_up() -> bool:
    try:
        # A GetItem of a key that never exists exercises the data plane at the cost of 0.5 RCU. Any
        # table will do; the first one the apps registered is as good as another.
        model = registered_models()[0]
        key = model._hash_key_attribute()
        missing_key = {key.attr_type: "__health__" if key.attr_type == "S" else "-1"}
        dynamodb_client().get_item(TableName=model.Meta.table_name, Key={key.attr_name: missing_key})
    except Exception:
        logger.warning("Health check: DynamoDB unavailable", exc_info=True)
        return False
    return True


def redis_is_up() -> bool:
    try:
        return bool(get_redis_connection("default").ping())
    except Exception:
        logger.warning("Health check: Redis unavailable", exc_info=True)
        return False


HealthSerializer = inline_serializer(
    "Health",
    {
        "status": serializers.ChoiceField(choices=["ok", "degraded", "down"]),
        "dynamodb": serializers.ChoiceField(choices=["ok", "unavailable"]),
        "redis": serializers.ChoiceField(choices=["ok", "unavailable"]),
    },
)


class HealthView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        responses={
            (200, "application/json"): HealthSerializer,
            (503, "application/json"): OpenApiResponse(HealthSerializer, description="DynamoDB is unreachable."),
        },
        summary="Liveness of this instance and its dependencies",
    )
    def get(self, request: Request) -> Response:
        dynamodb_ok = dynamodb_is_up()
        redis_ok = redis_is_up()
        body = {
            "status": "ok" if dynamodb_ok and redis_ok else "degraded" if dynamodb_ok else "down",
            "dynamodb": "ok" if dynamodb_ok else "unavailable",
            "redis": "ok" if redis_ok else "unavailable",
        }
        return Response(body, status=200 if dynamodb_ok else 503)
