"""JWT access and refresh tokens (HS256).

Both carry the user's token version (`ver`) and their sign-in's id (`sid`). An access token also
carries the role, but authentication checks the version against the cached user entry on every
request (accounts/authentication.py), so bumping the version ends every token at once. A refresh
token's `jti` is the one its sign-in expects next: refresh tokens rotate on every use.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import jwt
from django.conf import settings

TokenType = Literal["access", "refresh"]
ALGORITHM = "HS256"
# Access tokens this process verified, with their expiry: a client sends the same token with every
# request for its 15 minutes, and verifying it again (base64, JSON, HMAC, claims) is a measurable
# share of a cached read's CPU. Only tokens that passed verification enter, under the key and issuer
# they passed with; expiry is still checked on every use, and revocation is checked apart (the token
# version, accounts/authentication.py). Bounded: emptied when full.
VERIFIED_TOKENS_MAX = 4096
_verified_access_tokens: dict[tuple[str, str, str], tuple[TokenClaims, float]] = {}


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
    token_version: int
    sign_in_id: str
    jti: str


def new_token_id() -> str:
    return uuid.uuid4().hex


def issue_token(
    *,
    user_id: str,
    role: str,
    token_type: TokenType,
    token_version: int,
    sign_in_id: str,
    jti: str | None = None,
    not_after: datetime | None = None,
) -> str:
    """`not_after`: the sign-in's end, which no token of it outlives (rotation does not extend it)."""
    lifetime = settings.JWT_ACCESS_LIFETIME_SECONDS if token_type == "access" else settings.JWT_REFRESH_LIFETIME_SECONDS
    now = datetime.now(UTC)
    expires = now + timedelta(seconds=lifetime)
    if not_after is not None:
        expires = min(expires, not_after)
    payload = {
        "iss": settings.JWT_ISSUER,
        "sub": user_id,
        "role": role,
        "type": token_type,
        "ver": token_version,
        "sid": sign_in_id,
        "iat": now,
        "exp": expires,
        "jti": jti or new_token_id(),
    }
    return jwt.encode(payload, settings.JWT_SIGNING_KEY, algorithm=ALGORITHM)


def decode_token(token: str, *, expected_type: TokenType) -> TokenClaims:
    if expected_type != "access":
        return _verify(token, expected_type=expected_type)[0]
    memo_key = (settings.JWT_SIGNING_KEY, settings.JWT_ISSUER, token)
    remembered = _verified_access_tokens.get(memo_key)
    if remembered is not None:
        claims, expires_at = remembered
        if time.time() < expires_at:  # PyJWT's own rule: expired once now >= exp
            return claims
        raise TokenError("The token has expired.", "token_expired")
    claims, expires_at = _verify(token, expected_type=expected_type)
    if len(_verified_access_tokens) >= VERIFIED_TOKENS_MAX:
        _verified_access_tokens.clear()
    _verified_access_tokens[memo_key] = (claims, expires_at)
    return claims


def _verify(token: str, *, expected_type: TokenType) -> tuple[TokenClaims, float]:
    try:
        payload = jwt.decode(
            token,
            settings.JWT_SIGNING_KEY,
            algorithms=[ALGORITHM],
            issuer=settings.JWT_ISSUER,
            options={"require": ["exp", "iat", "sub", "type", "iss", "ver", "sid", "jti"]},
        )
    except jwt.ExpiredSignatureError:
        raise TokenError("The token has expired.", "token_expired") from None
    except jwt.PyJWTError:
        raise TokenError("The token is not valid.", "token_invalid") from None
    fields = (payload.get("sub"), payload.get("sid"), payload.get("jti"))
    if payload.get("type") != expected_type or not all(isinstance(value, str) for value in fields):
        raise TokenError(f"This is not an {expected_type} token.", "token_invalid")
    version = payload.get("ver")
    if not isinstance(version, int) or isinstance(version, bool):
        raise TokenError("The token is not valid.", "token_invalid")
    claims = TokenClaims(
        user_id=payload["sub"],
        role=str(payload.get("role", "")),
        token_type=expected_type,
        token_version=version,
        sign_in_id=payload["sid"],
        jti=payload["jti"],
    )
    return claims, float(payload["exp"])
