"""The "before" profile: a GetItem with a client of its own."""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.serializers import ProfileSerializer, user_profile
from benchmarks.baseline.dynamodb import get_item, new_client
from courseproject.api.errors import NotFoundError


class MeView(APIView):
    def get(self, request: Request) -> Response:
        item = get_item(new_client(), User, request.user.user_id)
        if item is None:
            raise NotFoundError("User not found.", code="user_not_found")
        return Response(ProfileSerializer(user_profile(User.from_raw_data(item))).data)
