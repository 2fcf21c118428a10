"""Passwords and email addresses: change, reset by emailed link, verification by emailed link
(the links' tokens: accounts/links.py)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.utils.crypto import constant_time_compare
from rest_framework.exceptions import Throttled

from accounts.links import (
    RESET_SALT,
    VERIFY_SALT,
    invalid_link,
    password_state,
    read_link_token,
)
from accounts.models import Actor, User
from accounts.selectors import normalize_email, user_by_id
from accounts.services import check_credentials, send_account_email, validate_new_password
from accounts.sign_ins import api_sign_in
from accounts.tasks import send_password_reset_email
from accounts.throttling import refund_login_attempt, take_password_attempt
from accounts.user_writes import ConditionFailed, update_user, user_or_404
from courseproject.api.errors import AuthenticationError
from courseproject.background.dispatch import dispatch, new_event_id


def change_password(
    *, actor: Actor, current_password: str, new_password: str, client_address: str
) -> dict[str, object]:
    """Check the current password, set the new one and end every sign-in; the caller gets a fresh
    token pair, so only their other devices are signed out."""
    user = user_or_404(actor.user_id)
    # A stolen access token must not guess the password faster than sign-in could: same failure limit.
    if wait := take_password_attempt(email=user.email):
        raise Throttled(wait=wait)
    _, valid = check_credentials(email=user.email, password=current_password)
    if not valid:
        raise AuthenticationError("The current password is not correct.", code="invalid_credentials")
    refund_login_attempt(email=user.email)
    validate_new_password(new_password, email=user.email, name=user.name, field="new_password")
    user = update_user(
        user,
        [User.password_hash.set(make_password(new_password)), User.token_version.add(1)],
        actor_id=actor.user_id,
        action="password_changed",
    )
    return api_sign_in(user, client_address=client_address)


def request_password_reset(*, email: str) -> None:
    """Queue a reset email for this address; the worker looks the account up and sends nothing if no
    active account has it. The caller always hears 202, after the same work either way."""
    dispatch(send_password_reset_email, event_id=new_event_id(), email=normalize_email(email)[:254])


def confirm_password_reset(*, token: str, new_password: str) -> None:
    """Set a new password from a reset link: once, within PASSWORD_RESET_TIMEOUT; every sign-in ends.
    Following the link proves the address, so the email counts as verified."""
    claims = read_link_token(token, salt=RESET_SALT, max_age=settings.PASSWORD_RESET_TIMEOUT, kind="reset_token")
    user = user_by_id(user_id=claims["u"])
    if user is None or not user.is_active or not constant_time_compare(claims.get("s", ""), password_state(user)):
        raise invalid_link("reset_token")
    validate_new_password(new_password, email=user.email, name=user.name, field="new_password")
    try:
        update_user(
            user,
            [
                User.password_hash.set(make_password(new_password)),
                User.token_version.add(1),
                User.email_verified.set(True),
            ],
            actor_id=user.user_id,
            action="password_reset",
            # Two confirmations of one link: the first changes the user, the second finds it changed.
            condition=User.revision == user.revision,
        )
    except ConditionFailed:
        raise invalid_link("reset_token") from None


def verify_email(*, token: str) -> User:
    """Mark the address verified (idempotent); the user may enroll from their next request."""
    claims = read_link_token(
        token, salt=VERIFY_SALT, max_age=settings.EMAIL_VERIFICATION_TIMEOUT, kind="verification_token"
    )
    user = user_by_id(user_id=claims["u"])
    if user is None or user.email != claims.get("e"):
        raise invalid_link("verification_token")
    if user.email_verified:
        return user
    return update_user(user, [User.email_verified.set(True)], actor_id=user.user_id, action="email_verified")


def resend_verification(*, actor: Actor) -> None:
    user = user_or_404(actor.user_id)
    if not user.email_verified:
        send_account_email(user, kind="verify_email")
