"""Registration, sign-in and sign-out, token refresh, passwords, email verification and the caller's
own profile."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import credentials, selectors, services, sign_ins
from accounts.authentication import SignOutAuthentication
from accounts.serializers import (
    AcceptedSerializer,
    EmailVerificationSerializer,
    LoginSerializer,
    LogoutSerializer,
    PasswordChangeSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetSerializer,
    ProfileSerializer,
    ProfileUpdateSerializer,
    RefreshedTokensSerializer,
    RefreshSerializer,
    RegisterSerializer,
    TokenPairSerializer,
    user_profile,
)
from accounts.throttling import (
    LoginAddressRateThrottle,
    LoginFailureRateThrottle,
    PasswordResetRateThrottle,
    RegisterRateThrottle,
    VerificationEmailRateThrottle,
    WriteRateThrottle,
    refund_login_attempt,
)
from courseproject.api.client import client_address
from courseproject.api.conditional import revalidatable_json
from courseproject.api.errors import AuthenticationError
from courseproject.api.schema import IF_NONE_MATCH, error_response


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
        user = services.register_user(**serializer.validated_data, self_registered=True)
        return Response(user_profile(user), status=status.HTTP_201_CREATED)


class LoginView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    # Per client address, and failures per account: checked before the password hash is.
    throttle_classes = [LoginAddressRateThrottle, LoginFailureRateThrottle]

    @extend_schema(
        request=LoginSerializer,
        responses={200: TokenPairSerializer, 401: error_response("invalid_credentials")},
        summary="Exchange email and password for access and refresh tokens",
    )
    def post(self, request: Request) -> Response:
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tokens = services.sign_in(**serializer.validated_data, client_address=client_address(request))
        # The attempt taken by LoginFailureRateThrottle was no failure.
        refund_login_attempt(email=serializer.validated_data["email"])
        return Response(tokens)


class RefreshView(APIView):
    # No throttle: a refresh token is a signed secret, there is nothing to guess.
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=RefreshSerializer,
        responses={
            200: RefreshedTokensSerializer,
            401: error_response("token_invalid, token_expired, token_revoked, token_reused"),
        },
        summary="Exchange a refresh token for a new access token and the next refresh token",
        description="Refresh tokens rotate: keep the new one. Presenting a replaced refresh token again (after "
        "a grace of REFRESH_REUSE_GRACE_SECONDS) ends every sign-in of the account: 401 token_reused.",
    )
    def post(self, request: Request) -> Response:
        serializer = RefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(
            sign_ins.refresh_tokens(
                refresh_token=serializer.validated_data["refresh"], client_address=client_address(request)
            )
        )


class LogoutView(APIView):
    # The refresh token proves who signs out; a valid access token, if sent, must be the same user's.
    authentication_classes = [SignOutAuthentication]
    permission_classes = [AllowAny]

    @extend_schema(
        request=LogoutSerializer,
        responses={204: None, 401: error_response("token_invalid, token_revoked, not_authenticated")},
        summary="Sign out: end this refresh token's sign-in, or every sign-in with all: true",
        description="Ending one sign-in leaves its access token valid until it expires "
        "(JWT_ACCESS_LIFETIME_SECONDS, 15 minutes by default); all: true ends every token and admin "
        "session of the user at once.",
    )
    def post(self, request: Request) -> Response:
        serializer = LogoutSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        refresh_token = serializer.validated_data.get("refresh")
        user_id = request.user.user_id if request.user else None
        address = client_address(request)
        if serializer.validated_data["all"]:
            if user_id is None and refresh_token:
                user_id = sign_ins.refresh_token_owner(refresh_token=refresh_token)
            if user_id is None:
                raise AuthenticationError("Sign in to sign out everywhere.", code="not_authenticated")
            sign_ins.sign_out_everywhere(user_id=user_id)
        else:
            sign_ins.sign_out_refresh_token(refresh_token=refresh_token, user_id=user_id, client_address=address)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeView(APIView):
    throttle_classes = [WriteRateThrottle]

    @extend_schema(
        request=PasswordChangeSerializer,
        responses={200: TokenPairSerializer, 401: error_response("invalid_credentials (the current password)")},
        summary="Change the caller's password; every sign-in ends, the caller gets new tokens",
    )
    def post(self, request: Request) -> Response:
        serializer = PasswordChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(
            credentials.change_password(
                actor=request.user, **serializer.validated_data, client_address=client_address(request)
            )
        )


class PasswordResetView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    # Per email, and per client address (the sign-in budget): every request queues a task.
    throttle_classes = [PasswordResetRateThrottle, LoginAddressRateThrottle]

    @extend_schema(
        request=PasswordResetSerializer,
        responses={202: AcceptedSerializer},
        summary="Email a password-reset link, if an active account has this address (always 202)",
    )
    def post(self, request: Request) -> Response:
        serializer = PasswordResetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        credentials.request_password_reset(email=serializer.validated_data["email"])
        return Response(
            {"detail": "If an account has this address, an email with a reset link is on its way."},
            status=status.HTTP_202_ACCEPTED,
        )


class PasswordResetConfirmView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=PasswordResetConfirmSerializer,
        responses={204: None, 400: error_response("reset_token_invalid, reset_token_expired, password_invalid")},
        summary="Set a new password with the token from a reset link; every sign-in ends",
    )
    def post(self, request: Request) -> Response:
        serializer = PasswordResetConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        credentials.confirm_password_reset(**serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class VerifyEmailView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=EmailVerificationSerializer,
        responses={
            200: ProfileSerializer,
            400: error_response("verification_token_invalid, verification_token_expired"),
        },
        summary="Confirm an email address with the token from a verification link",
    )
    def post(self, request: Request) -> Response:
        serializer = EmailVerificationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(user_profile(credentials.verify_email(token=serializer.validated_data["token"])))


class ResendVerificationView(APIView):
    throttle_classes = [VerificationEmailRateThrottle]

    @extend_schema(
        request=None,
        responses={202: AcceptedSerializer},
        summary="Email the caller a new verification link (nothing is sent if the address is verified)",
    )
    def post(self, request: Request) -> Response:
        credentials.resend_verification(actor=request.user)
        return Response({"detail": "A verification email is on its way."}, status=status.HTTP_202_ACCEPTED)


class MeView(APIView):
    throttle_classes = [WriteRateThrottle]  # the PATCH; reads pass untouched

    @extend_schema(parameters=[IF_NONE_MATCH], responses={200: ProfileSerializer}, summary="The caller's profile")
    def get(self, request: Request) -> HttpResponse:
        return revalidatable_json(request, selectors.profile_json(user_id=request.user.user_id), personal=True)

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
