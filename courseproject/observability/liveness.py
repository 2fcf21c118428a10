"""GET /api/live: the load balancer's target health check, 200 for as long as the process answers HTTP.

`LivenessMiddleware` answers it first in settings.MIDDLEWARE, before anything else runs:
- The load balancer sends the target's private address as Host, which ALLOWED_HOSTS does not list,
  so anything that calls `request.get_host()` (SecurityMiddleware's HTTPS redirect, CommonMiddleware)
  would answer 400 and every target would look dead.
- It reads neither DynamoDB nor Redis: in a DynamoDB outage a failing check would make ECS replace
  every task, adding cold starts to the outage. /api/health stays the readiness view for people and alarms.
- Checks from every load balancer node every few seconds would crowd the request log and the
  latency histogram that the alarms read.

The view is also routed (courseproject/urls.py), so the OpenAPI document lists the path.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

LIVENESS_PATH = "/api/live"

LivenessSerializer = inline_serializer("Liveness", {"status": serializers.ChoiceField(choices=["ok"])})


class LivenessView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        responses={(200, "application/json"): LivenessSerializer},
        summary="Liveness of this process, for the load balancer: no dependency is consulted, any Host is accepted",
    )
    def get(self, request: Request) -> Response:
        # The middleware's answer skips NoStoreMiddleware, so the view says it itself.
        return Response({"status": "ok"}, headers={"Cache-Control": "no-store"})


liveness_view = LivenessView.as_view()


class LivenessMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info != LIVENESS_PATH:
            return self.get_response(request)
        response = liveness_view(request)
        # Django's handler renders a view's deferred response inside the chain this answer skips.
        response.render()
        return response
