"""Input validation and documented output shapes for the auth endpoints."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from accounts.models import User
from courseproject.fields import TextField
from courseproject.rendering import isoformat

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
