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
        "created_at": isoformat(user.created_at),
    }


def user_account(user: User) -> dict[str, Any]:
    """The profile plus what only admins see: what user_changed and the audit log carry."""
    return {**user_profile(user), "is_active": bool(user.is_active)}


def profile_of_account(account: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in account.items() if key != "is_active"}


class ProfileSerializer(serializers.Serializer):
    user_id = serializers.CharField()
    email = serializers.EmailField()
    name = serializers.CharField()
    role = serializers.ChoiceField(choices=["student", "instructor", "admin"])
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


class AccessTokenSerializer(serializers.Serializer):
    access = serializers.CharField()
