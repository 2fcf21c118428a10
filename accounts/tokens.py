"""JWT access and refresh tokens (HS256).

An access token carries the user id and role, so authenticating a request costs no DynamoDB read.
The price: a role change or deactivation reaches a user's open sessions when their access token
expires (JWT_ACCESS_LIFETIME_SECONDS), because refresh re-reads the user.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import jwt
from django.conf import settings

TokenType = Literal["access", "refresh"]
ALGORITHM = "HS256"


class TokenError(Exception):
    def __init__(self, detail: str, code: str) -> None:
        self.detail = detail
        self.code = code
        super().__init__(detail)


@dataclass(frozen=True)
class TokenClaims:
    user_id: str
    role: str
    token_type: TokenType


def issue_token(*, user_id: str, role: str, token_type: TokenType) -> str:
    lifetime = settings.JWT_ACCESS_LIFETIME_SECONDS if token_type == "access" else settings.JWT_REFRESH_LIFETIME_SECONDS
    now = datetime.now(UTC)
    payload = {
        "iss": settings.JWT_ISSUER,
        "sub": user_id,
        "role": role,
        "type": token_type,
        "iat": now,
        "exp": now + timedelta(seconds=lifetime),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(payload, settings.JWT_SIGNING_KEY, algorithm=ALGORITHM)


def decode_token(token: str, *, expected_type: TokenType) -> TokenClaims:
    try:
        payload = jwt.decode(
            token,
            settings.JWT_SIGNING_KEY,
            algorithms=[ALGORITHM],
            issuer=settings.JWT_ISSUER,
            options={"require": ["exp", "iat", "sub", "type", "iss"]},
        )
    except jwt.ExpiredSignatureError:
        raise TokenError("The token has expired.", "token_expired") from None
    except jwt.PyJWTError:
        raise TokenError("The token is not valid.", "token_invalid") from None
    if payload.get("type") != expected_type or not isinstance(payload.get("sub"), str):
        raise TokenError(f"This is not an {expected_type} token.", "token_invalid")
    return TokenClaims(user_id=payload["sub"], role=str(payload.get("role", "")), token_type=expected_type)
