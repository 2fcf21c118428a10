"""DRF authentication from a Bearer access token, checked against the user's current token version.

The version, active flag and role come from the cached user entry (written through on every change
of the user), so a password change, a deactivation, a role change or "sign out everywhere" ends a
token at its next request without a DynamoDB read per request. With Redis away the entry is read
from DynamoDB: the check is never skipped.

A read-only request checks it in the same Redis round trip as its first cached read (a rider,
courseproject/caching/riders.py); `TokenCheckMiddleware` settles the check of a request that made
no cached read before its response leaves. Writes check it before the view runs.
"""

from __future__ import annotations

from collections.abc import Callable

import orjson
from django.http import HttpRequest, HttpResponse, JsonResponse
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import HTTP_HEADER_ENCODING, exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from accounts.auth_state import AuthState, auth_state
from accounts.models import Actor
from accounts.tokens import TokenClaims, TokenError, decode_token
from courseproject.api.outages import is_dynamodb_outage
from courseproject.caching import keys, riders
from courseproject.caching.entities import NULL
from courseproject.caching.entries import decode
from courseproject.observability.counters import record_cache_lookup

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
WWW_AUTHENTICATE = 'Bearer realm="api"'


def _revoked() -> exceptions.AuthenticationFailed:
    return exceptions.AuthenticationFailed("This sign-in has ended; sign in again.", code="token_revoked")


def _check(state: AuthState | None, claims: TokenClaims) -> AuthState:
    # A role change bumps the version; comparing the role too costs nothing and needs no such promise.
    if state is None or not state.is_active or state.token_version != claims.token_version or state.role != claims.role:
        raise _revoked()
    return state


def _authorization_header(request: Request) -> bytes:
    """DRF's get_authorization_header, from META: request.headers would copy every header first,
    a tenth of a cached read's CPU."""
    header = request.META.get("HTTP_AUTHORIZATION", b"")
    return header.encode(HTTP_HEADER_ENCODING) if isinstance(header, str) else header


def _token_check_rider(claims: TokenClaims) -> riders.Rider:
    key = keys.user_auth(claims.user_id)

    def settle(raw: bytes | None) -> None:
        entry = decode(raw)
        if entry is not None and entry.payload != NULL:
            record_cache_lookup(key.family, hit=True)
            _check(AuthState(**orjson.loads(entry.payload)), claims)
        else:
            _check(auth_state(user_id=claims.user_id), claims)

    return riders.Rider(key=key.name, settle=settle)


class JWTAuthentication(BaseAuthentication):
    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[Actor, str] | None:
        header = _authorization_header(request).split()
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
        if request.method in READ_ONLY_METHODS:
            # The token's role is checked against the user's with the version, before anything is answered.
            riders.attach(_token_check_rider(claims))
            return Actor(user_id=claims.user_id, role=claims.role), token
        state = _check(auth_state(user_id=claims.user_id), claims)
        return Actor(user_id=claims.user_id, role=state.role, email_verified=state.email_verified), token

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (not 403) to requests without credentials.
        return WWW_AUTHENTICATE


class SignOutAuthentication(JWTAuthentication):
    """For signing out: an access token that has expired or ended is no reason to refuse, since the
    refresh token in the body is the proof that counts; it is taken as absent."""

    def authenticate(self, request: Request) -> tuple[Actor, str] | None:
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            return None


class TokenCheckMiddleware:
    """Settles a read-only request's token check that no cached read took, before the response leaves:
    a revoked token then gets 401 instead of what the view answered. Clears it for the next request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        riders.clear()
        try:
            response = self.get_response(request)
            try:
                riders.settle_leftover()
            except exceptions.AuthenticationFailed as refusal:
                response = JsonResponse(
                    {"detail": str(refusal.detail), "code": refusal.get_codes()}, status=refusal.status_code
                )
                response["WWW-Authenticate"] = WWW_AUTHENTICATE
            except Exception as error:
                if not is_dynamodb_outage(error):
                    raise
                response = JsonResponse(
                    {"detail": "The service is temporarily unavailable; please retry.", "code": "dynamodb_unavailable"},
                    status=503,
                )
            return response
        finally:
            riders.clear()


class JWTAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.JWTAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


class SignOutAuthenticationScheme(JWTAuthenticationScheme):
    """The same bearer token, under its own name (the schema gives each class one), optional."""

    target_class = "accounts.authentication.SignOutAuthentication"
    name = "bearerAuthOptional"

    def get_security_requirement(self, auto_schema):
        return [{self.name: []}, {}]
