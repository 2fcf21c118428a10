"""Registration, login, token refresh and the caller's own profile."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.serializers import (
    AccessTokenSerializer,
    LoginSerializer,
    ProfileSerializer,
    ProfileUpdateSerializer,
    RefreshSerializer,
    RegisterSerializer,
    TokenPairSerializer,
    user_profile,
)
from accounts.throttling import LoginRateThrottle, RegisterRateThrottle
from courseproject.api.rendering import JsonBytesResponse
from courseproject.api.schema import error_response


class RegisterView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [RegisterRateThrottle]

    @extend_schema(
        request=RegisterSerializer,
        responses={201: ProfileSerializer, 409: error_response("email_taken")},
        summary="Create a student account",
    )
    def post(self, request: Request) -> Response:
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.register_user(**serializer.validated_data)
        return Response(user_profile(user), status=status.HTTP_201_CREATED)


class LoginView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginRateThrottle]

    @extend_schema(
        request=LoginSerializer,
        responses={200: TokenPairSerializer, 401: error_response("invalid_credentials")},
        summary="Exchange email and password for access and refresh tokens",
    )
    def post(self, request: Request) -> Response:
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(services.sign_in(**serializer.validated_data))


class RefreshView(APIView):
    # No throttle: a refresh token is a signed secret, there is nothing to guess.
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=RefreshSerializer,
        responses={200: AccessTokenSerializer, 401: error_response("token_invalid, token_expired")},
        summary="Exchange a refresh token for a new access token",
    )
    def post(self, request: Request) -> Response:
        serializer = RefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response({"access": services.refresh_access_token(refresh_token=serializer.validated_data["refresh"])})


class MeView(APIView):
    @extend_schema(responses={200: ProfileSerializer}, summary="The caller's profile")
    def get(self, request: Request) -> HttpResponse:
        return JsonBytesResponse(selectors.profile_json(user_id=request.user.user_id))

    @extend_schema(
        request=ProfileUpdateSerializer, responses={200: ProfileSerializer}, summary="Change the caller's name"
    )
    def patch(self, request: Request) -> Response:
        serializer = ProfileUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.update_profile(
            user_id=request.user.user_id,
            name=serializer.validated_data["name"],
            actor_id=request.user.user_id,
        )
        return Response(user_profile(user))
