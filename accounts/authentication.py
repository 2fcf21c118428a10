"""DRF authentication from a Bearer access token, without a DynamoDB read per request."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from accounts.models import Actor
from accounts.tokens import TokenError, decode_token


class JWTAuthentication(BaseAuthentication):
    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[Actor, str] | None:
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Authorization header must be 'Bearer <token>'.", code="token_invalid"
            )
        try:
            token = header[1].decode("ascii")
            claims = decode_token(token, expected_type="access")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("The token is not valid.", code="token_invalid") from None
        except TokenError as error:
            raise exceptions.AuthenticationFailed(error.detail, code=error.code) from None
        return Actor(user_id=claims.user_id, role=claims.role), token

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (not 403) to requests without credentials.
        return 'Bearer realm="api"'


class JWTAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.JWTAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
