"""Registration, login, token refresh and the caller's own profile."""

from __future__ import annotations

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
from accounts.throttling import AuthRateThrottle
from accounts.tokens import TokenError, decode_token, issue_token
from courseproject.errors import AuthenticationError, NotFoundError
from courseproject.schema import error_response


class RegisterView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [AuthRateThrottle]

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
    throttle_classes = [AuthRateThrottle]

    @extend_schema(
        request=LoginSerializer,
        responses={200: TokenPairSerializer, 401: error_response("invalid_credentials")},
        summary="Exchange email and password for access and refresh tokens",
    )
    def post(self, request: Request) -> Response:
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.authenticate(**serializer.validated_data)
        if user is None:
            raise AuthenticationError()
        return Response(
            {
                "access": issue_token(user_id=user.user_id, role=user.role, token_type="access"),
                "refresh": issue_token(user_id=user.user_id, role=user.role, token_type="refresh"),
                "user": user_profile(user),
            }
        )


class RefreshView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [AuthRateThrottle]

    @extend_schema(
        request=RefreshSerializer,
        responses={200: AccessTokenSerializer, 401: error_response("token_invalid, token_expired")},
        summary="Exchange a refresh token for a new access token",
    )
    def post(self, request: Request) -> Response:
        serializer = RefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            claims = decode_token(serializer.validated_data["refresh"], expected_type="refresh")
        except TokenError as error:
            raise AuthenticationError(error.detail, code=error.code) from None
        # Re-read the user so deactivation and role changes apply from the next access token on.
        user = selectors.user_by_id(user_id=claims.user_id)
        if user is None or not user.is_active:
            raise AuthenticationError("This account is not active.", code="token_invalid")
        return Response({"access": issue_token(user_id=user.user_id, role=user.role, token_type="access")})


class MeView(APIView):
    @extend_schema(responses={200: ProfileSerializer}, summary="The caller's profile")
    def get(self, request: Request) -> Response:
        user = selectors.user_by_id(user_id=request.user.user_id)
        if user is None:
            raise NotFoundError("User not found.", code="user_not_found")
        return Response(user_profile(user))

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
