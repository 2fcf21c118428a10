"""Sign-ins and their end: API token pairs with rotating refresh tokens, admin sessions, sign-out.

Each sign-in is a `SignIn` item. An API sign-in's refresh token names it (`sid`) and the token id it
expects next (`jti`); refreshing rotates that id under a condition, so of two refreshes with one
token exactly one rotates it. The other, within REFRESH_REUSE_GRACE_SECONDS, is handed the current
token too (two tabs refreshing at once stay signed in). A rotated token presented later means the
token was copied: the user's token version is bumped, which ends every sign-in of theirs.
"""

from __future__ import annotations

import re
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from pynamodb.exceptions import UpdateError

from accounts.models import SignIn, SignInKind, User
from accounts.selectors import keep_signed_in_user, sign_in_by_id, user_by_id
from accounts.serializers import user_profile
from accounts.signals import sign_in_event
from accounts.tokens import TokenClaims, TokenError, decode_token, issue_token, new_token_id
from accounts.user_writes import revoke_all_sign_ins
from courseproject.api.errors import AuthenticationError
from courseproject.background.events import announce
from courseproject.ids import new_id

EMAIL_LIKE = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")


def _lifetime_seconds(kind: SignInKind) -> int:
    return settings.JWT_REFRESH_LIFETIME_SECONDS if kind == SignInKind.API else settings.SESSION_COOKIE_AGE


def start_sign_in(user: User, *, kind: SignInKind, client_address: str) -> SignIn:
    """Record a sign-in of `user` (whose password was just checked) and audit it."""
    now = timezone.now()
    sign_in = SignIn(
        sign_in_id=new_id(),
        user_id=user.user_id,
        kind=kind.value,
        token_version=int(user.token_version),
        refresh_jti=new_token_id() if kind == SignInKind.API else None,
        client_address=client_address,
        created_at=now,
        # The sign-in's end: its tokens never outlive it, and DynamoDB's TTL deletes it some time after.
        expires_at=now + timedelta(seconds=_lifetime_seconds(kind)),
    )
    sign_in.save_new()
    announce_sign_in(
        user_id=user.user_id, action="signed_in", kind=kind, client_address=client_address, sign_in=sign_in
    )
    return sign_in


def announce_sign_in(
    *,
    user_id: str | None,
    action: str,
    kind: SignInKind,
    client_address: str,
    sign_in: SignIn | None = None,
    email: str | None = None,
) -> None:
    detail = {"channel": kind.value, "client_address": client_address}
    if sign_in is not None:
        detail["sign_in_id"] = sign_in.sign_in_id
    if email is not None:
        # People type their password into the email field: keep only what looks like an address.
        detail["email"] = email if EMAIL_LIKE.fullmatch(email) else "(not an email address)"
    # A failed sign-in is the address's doing, not the account owner's.
    actor_id = user_id if user_id and action != "sign_in_failed" else f"address:{client_address}"
    announce(sign_in_event, sender=User, user_id=user_id, action=action, actor_id=actor_id, detail=detail)


def token_pair(user: User, sign_in: SignIn, *, refresh_jti: str) -> dict[str, str]:
    common = {
        "user_id": user.user_id,
        "role": user.role,
        "token_version": int(user.token_version),
        "not_after": sign_in.expires_at,
    }
    return {
        "access": issue_token(**common, token_type="access", sign_in_id=sign_in.sign_in_id),
        "refresh": issue_token(**common, token_type="refresh", sign_in_id=sign_in.sign_in_id, jti=refresh_jti),
    }


def api_sign_in(user: User, *, client_address: str) -> dict[str, object]:
    sign_in = start_sign_in(user, kind=SignInKind.API, client_address=client_address)
    keep_signed_in_user(user)
    return {**token_pair(user, sign_in, refresh_jti=sign_in.refresh_jti), "user": user_profile(user)}


def _decode_refresh(refresh_token: str) -> TokenClaims:
    try:
        return decode_token(refresh_token, expected_type="refresh")
    except TokenError as error:
        raise AuthenticationError(error.detail, code=error.code) from None


def _revoked() -> AuthenticationError:
    return AuthenticationError("This sign-in has ended; sign in again.", code="token_revoked")


def _live_sign_in(claims: TokenClaims) -> tuple[User, SignIn]:
    """The user and sign-in a refresh token belongs to, if both still stand behind it."""
    sign_in = sign_in_by_id(sign_in_id=claims.sign_in_id)
    if (
        sign_in is None
        or sign_in.user_id != claims.user_id
        or sign_in.revoked_at is not None
        or sign_in.expires_at <= timezone.now()  # a sign-in lasts JWT_REFRESH_LIFETIME_SECONDS, rotated or not
    ):
        raise _revoked()
    user = user_by_id(user_id=claims.user_id)
    if user is None or not user.is_active or int(user.token_version) != claims.token_version:
        raise _revoked()
    return user, sign_in


def refresh_tokens(*, refresh_token: str, client_address: str) -> dict[str, str]:
    """A new access token and the next refresh token; a reused rotated token ends every sign-in."""
    claims = _decode_refresh(refresh_token)
    user, sign_in = _live_sign_in(claims)
    if claims.jti == sign_in.refresh_jti:
        next_jti = new_token_id()
        try:
            sign_in.update(
                actions=[
                    SignIn.refresh_jti.set(next_jti),
                    SignIn.previous_jti.set(claims.jti),
                    SignIn.rotated_at.set(timezone.now()),
                ],
                condition=(SignIn.refresh_jti == claims.jti) & SignIn.revoked_at.does_not_exist(),
            )
            return token_pair(user, sign_in, refresh_jti=next_jti)
        except UpdateError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
            # Another refresh with this token won the rotation a moment ago: judge this one as a reuse.
            user, sign_in = _live_sign_in(claims)
    grace = timedelta(seconds=settings.REFRESH_REUSE_GRACE_SECONDS)
    if claims.jti == sign_in.previous_jti and sign_in.rotated_at and timezone.now() - sign_in.rotated_at <= grace:
        return token_pair(user, sign_in, refresh_jti=sign_in.refresh_jti)
    revoke_all_sign_ins(user_id=user.user_id, actor_id=user.user_id, action="refresh_token_reused")
    announce_sign_in(
        user_id=user.user_id,
        action="refresh_token_reused",
        kind=SignInKind.API,
        client_address=client_address,
        sign_in=sign_in,
    )
    raise AuthenticationError(
        "This refresh token was already used; every sign-in of this account has ended.", code="token_reused"
    )


def end_sign_in(sign_in: SignIn, *, client_address: str) -> None:
    """Sign out one sign-in (an API refresh-token family or an admin session); idempotent."""
    try:
        sign_in.update(
            actions=[SignIn.revoked_at.set(timezone.now())],
            condition=SignIn.sign_in_id.exists() & SignIn.revoked_at.does_not_exist(),
        )
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return
        raise
    announce_sign_in(
        user_id=sign_in.user_id,
        action="signed_out",
        kind=SignInKind(sign_in.kind),
        client_address=client_address,
        sign_in=sign_in,
    )


def sign_out_refresh_token(*, refresh_token: str, user_id: str | None, client_address: str) -> None:
    """End the sign-in of this refresh token; its access tokens live until they expire."""
    try:
        claims = decode_token(refresh_token, expected_type="refresh")
    except TokenError as error:
        if error.code == "token_expired":
            return  # nothing left to end
        raise AuthenticationError(error.detail, code=error.code) from None
    if user_id is not None and claims.user_id != user_id:
        raise AuthenticationError("This refresh token belongs to someone else.", code="token_invalid")
    sign_in = sign_in_by_id(sign_in_id=claims.sign_in_id)
    if sign_in is not None and sign_in.user_id == claims.user_id:
        end_sign_in(sign_in, client_address=client_address)


def refresh_token_owner(*, refresh_token: str) -> str:
    """Whose refresh token this is (for signing out everywhere without an access token)."""
    claims = _decode_refresh(refresh_token)
    _live_sign_in(claims)
    return claims.user_id


def sign_out_everywhere(*, user_id: str) -> None:
    """End every token and admin session of the user at once (their token version is bumped)."""
    revoke_all_sign_ins(user_id=user_id, actor_id=user_id)
