"""Writes of users: registration with a unique email, login, profile changes."""

from __future__ import annotations

import uuid

from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from accounts.models import Role, User, UserEmail
from accounts.selectors import normalize_email, user_by_email
from accounts.serializers import user_profile
from accounts.signals import user_changed
from courseproject.dynamo import shared_connection
from courseproject.errors import ConflictError, InvalidInputError, NotFoundError


def _validate_password(password: str) -> None:
    try:
        validate_password(password)
    except DjangoValidationError as error:
        raise InvalidInputError(" ".join(error.messages), code="password_invalid", field="password") from None


def register_user(
    *,
    email: str,
    password: str,
    name: str,
    role: Role = Role.STUDENT,
    actor_id: str | None = None,
    password_hash: str | None = None,
) -> User:
    """Create a user; the email claim and the user item are written in one transaction.

    `password_hash` lets bulk seeding reuse one hash instead of paying PBKDF2 per user.
    """
    email = normalize_email(email)
    if password_hash is None:
        _validate_password(password)
        password_hash = make_password(password)
    now = timezone.now()
    user = User(
        user_id=uuid.uuid4().hex,
        email=email,
        name=name.strip(),
        role=Role(role).value,
        password_hash=password_hash,
        is_active=True,
        created_at=now,
        updated_at=now,
    )
    try:
        with TransactWrite(connection=shared_connection()) as transaction:
            transaction.save(UserEmail(email=email, user_id=user.user_id), condition=UserEmail.email.does_not_exist())
            transaction.save(user, condition=User.user_id.does_not_exist())
    except TransactWriteError as error:
        email_reason = error.cancellation_reasons[0] if error.cancellation_reasons else None
        if email_reason is not None and email_reason.code == "ConditionalCheckFailed":
            raise ConflictError("A user with this email already exists.", code="email_taken") from None
        raise
    user_changed.send(
        sender=User,
        user_id=user.user_id,
        action="created",
        actor_id=actor_id or user.user_id,
        before=None,
        after=user_profile(user),
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


def update_profile(*, user_id: str, name: str, actor_id: str) -> User:
    user = User(user_id=user_id)
    try:
        user.refresh(consistent_read=True)
    except User.DoesNotExist:
        raise NotFoundError("User not found.", code="user_not_found") from None
    before = user_profile(user)
    try:
        user.update(
            actions=[User.name.set(name.strip()), User.updated_at.set(timezone.now())],
            condition=User.user_id.exists(),
        )
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            raise NotFoundError("User not found.", code="user_not_found") from None
        raise
    user_changed.send(
        sender=User,
        user_id=user_id,
        action="updated",
        actor_id=actor_id,
        before=before,
        after=user_profile(user),
    )
    return user
