"""Writes of users: registration with a unique email, sign-in, token refresh, profile changes."""

from __future__ import annotations

import uuid

from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from accounts.models import Actor, Role, User, UserEmail
from accounts.selectors import normalize_email, user_by_email, user_by_id
from accounts.serializers import user_account, user_profile
from accounts.signals import user_changed
from accounts.tokens import TokenError, decode_token, issue_token
from courseproject.api.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from courseproject.background.events import announce
from courseproject.dynamo.transactions import commit_transaction
from courseproject.ids import new_id


def _validate_password(password: str) -> None:
    try:
        validate_password(password)
    except DjangoValidationError as error:
        raise InvalidInputError(" ".join(error.messages), code="password_invalid", field="password") from None


def register_user(
    *, email: str, password: str, name: str, role: Role = Role.STUDENT, actor_id: str | None = None
) -> User:
    """Create a user; the email claim and the user item are written in one transaction."""
    email = normalize_email(email)
    _validate_password(password)
    now = timezone.now()
    user = User(
        user_id=new_id(),
        email=email,
        name=name.strip(),
        role=Role(role).value,
        password_hash=make_password(password),
        is_active=True,
        revision=1,
        created_at=now,
        updated_at=now,
    )

    def build(transaction: TransactWrite) -> None:
        transaction.save(UserEmail(email=email, user_id=user.user_id), condition=UserEmail.email.does_not_exist())
        transaction.save(user, condition=User.user_id.does_not_exist())

    try:
        commit_transaction(build)
    except TransactWriteError as error:
        email_reason = error.cancellation_reasons[0] if error.cancellation_reasons else None
        if email_reason is not None and email_reason.code == "ConditionalCheckFailed":
            raise ConflictError("A user with this email already exists.", code="email_taken") from None
        raise
    announce(
        user_changed,
        sender=User,
        user_id=user.user_id,
        action="created",
        actor_id=actor_id or user.user_id,
        revision=1,
        before=None,
        after=user_account(user),
    )
    return user


# Compared against when the email is unknown, so both paths cost one hash (no user enumeration by timing).
_DUMMY_PASSWORD_HASH: str | None = None


def authenticate(*, email: str, password: str) -> User | None:
    """The active user with these credentials, or None."""
    global _DUMMY_PASSWORD_HASH
    user = user_by_email(email=email)
    if user is None:
        if _DUMMY_PASSWORD_HASH is None:
            _DUMMY_PASSWORD_HASH = make_password(uuid.uuid4().hex)
        check_password(password, _DUMMY_PASSWORD_HASH)
        return None
    if not check_password(password, user.password_hash) or not user.is_active:
        return None
    return user


def sign_in(*, email: str, password: str) -> dict[str, object]:
    """Access and refresh tokens with the profile, or 401 invalid_credentials."""
    user = authenticate(email=email, password=password)
    if user is None:
        raise AuthenticationError()
    return {
        "access": issue_token(user_id=user.user_id, role=user.role, token_type="access"),
        "refresh": issue_token(user_id=user.user_id, role=user.role, token_type="refresh"),
        "user": user_profile(user),
    }


def refresh_access_token(*, refresh_token: str) -> str:
    """A new access token; the user is read again so deactivation and role changes take effect."""
    try:
        claims = decode_token(refresh_token, expected_type="refresh")
    except TokenError as error:
        raise AuthenticationError(error.detail, code=error.code) from None
    user = user_by_id(user_id=claims.user_id)
    if user is None or not user.is_active:
        raise AuthenticationError("This account is not active.", code="token_invalid")
    return issue_token(user_id=user.user_id, role=user.role, token_type="access")


def update_profile(*, user_id: str, name: str, actor_id: str) -> User:
    return _update_user(_user_or_404(user_id), [User.name.set(name.strip())], actor_id=actor_id)


def _user_or_404(user_id: str) -> User:
    user = user_by_id(user_id=user_id)
    if user is None:
        raise NotFoundError("User not found.", code="user_not_found")
    return user


def _update_user(user: User, actions: list[Action], *, actor_id: str) -> User:
    """Apply `actions` to a user read just before, bump its revision and announce the change."""
    before = user_account(user)
    try:
        user.update(
            actions=[*actions, User.updated_at.set(timezone.now()), User.revision.add(1)],
            condition=User.user_id.exists(),
        )
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            raise NotFoundError("User not found.", code="user_not_found") from None
        raise
    announce(
        user_changed,
        sender=User,
        user_id=user.user_id,
        action="updated",
        actor_id=actor_id,
        revision=int(user.revision),
        before=before,
        after=user_account(user),
    )
    return user


def change_user(*, actor: Actor, user_id: str, name: str, role: Role, is_active: bool) -> User:
    """An admin changes a user's name, role or active flag (promoting, demoting, deactivating).

    Access tokens carry the role, so API requests see a new role or a deactivation when the user's
    access token expires (JWT_ACCESS_LIFETIME_SECONDS); refreshing it re-reads the user at once.
    """
    if not actor.is_admin:
        raise PermissionDeniedError("Only admins can change users.")
    user = _user_or_404(user_id)
    if user_id == actor.user_id and (Role(role) != Role.ADMIN or not is_active):
        # The last admin could otherwise lock everyone out of the admin site.
        raise InvalidInputError("You cannot remove your own admin access.", code="own_access", field="role")
    return _update_user(
        user,
        [User.name.set(name.strip()), User.role.set(Role(role).value), User.is_active.set(is_active)],
        actor_id=actor.user_id,
    )
