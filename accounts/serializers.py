"""Input validation and documented output shapes for the auth endpoints."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from accounts.models import User
from courseproject.api.fields import TextField
from courseproject.api.rendering import isoformat

# Django's hashers take time proportional to length; nobody needs a longer password.
PASSWORD_MAX_LENGTH = 128


def user_profile(user: User) -> dict[str, Any]:
    return {
        "user_id": user.user_id,
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "email_verified": bool(user.email_verified),
        "created_at": isoformat(user.created_at),
    }


def user_account(user: User) -> dict[str, Any]:
    """The profile plus what only admins and the authentication see: what user_changed and the
    audit log carry."""
    return {**user_profile(user), "is_active": bool(user.is_active), "token_version": int(user.token_version)}


PROFILE_FIELDS = ("user_id", "email", "name", "role", "email_verified", "created_at")


def profile_of_account(account: dict[str, Any]) -> dict[str, Any]:
    return {key: account[key] for key in PROFILE_FIELDS}


def auth_state_of_account(account: dict[str, Any]) -> dict[str, Any]:
    """What authentication checks on every request (accounts/selectors.py auth_state)."""
    return {
        "token_version": account["token_version"],
        "is_active": account["is_active"],
        "role": account["role"],
        "email_verified": account["email_verified"],
    }


class ProfileSerializer(serializers.Serializer):
    user_id = serializers.CharField()
    email = serializers.EmailField()
    name = serializers.CharField()
    role = serializers.ChoiceField(choices=["student", "instructor", "admin"])
    email_verified = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class RegisterSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = TextField(max_length=PASSWORD_MAX_LENGTH, trim_whitespace=False, write_only=True)
    name = TextField(max_length=100)


class LoginSerializer(serializers.Serializer):
    email = TextField(max_length=254)
    password = TextField(max_length=PASSWORD_MAX_LENGTH, trim_whitespace=False)


class RefreshSerializer(serializers.Serializer):
    refresh = TextField(max_length=4096)


class ProfileUpdateSerializer(serializers.Serializer):
    name = TextField(max_length=100)


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()
    user = ProfileSerializer()


class RefreshedTokensSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class LogoutSerializer(serializers.Serializer):
    refresh = TextField(max_length=4096, required=False)
    all = serializers.BooleanField(default=False, help_text="End every sign-in of this user, everywhere.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("refresh") and not attrs["all"]:
            raise serializers.ValidationError({"refresh": ["Give the refresh token to end, or all: true."]})
        return attrs


class PasswordChangeSerializer(serializers.Serializer):
    current_password = TextField(max_length=PASSWORD_MAX_LENGTH, trim_whitespace=False)
    new_password = TextField(max_length=PASSWORD_MAX_LENGTH, trim_whitespace=False)


class PasswordResetSerializer(serializers.Serializer):
    email = TextField(max_length=254)


class PasswordResetConfirmSerializer(serializers.Serializer):
    token = TextField(max_length=1024)
    new_password = TextField(max_length=PASSWORD_MAX_LENGTH, trim_whitespace=False)


class EmailVerificationSerializer(serializers.Serializer):
    token = TextField(max_length=1024)


class AcceptedSerializer(serializers.Serializer):
    detail = serializers.CharField()
