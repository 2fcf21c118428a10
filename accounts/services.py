"""Writes of users: registration with a unique email, sign-in, profile and role changes, and the token
version whose bump ends every sign-in of a user (sign_ins.py keeps the sign-ins themselves)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from accounts.models import Actor, Role, SignInKind, User, UserEmail
from accounts.selectors import normalize_email, user_by_email
from accounts.serializers import user_account
from accounts.sign_ins import announce_sign_in, api_sign_in
from accounts.signals import user_changed
from accounts.tasks import send_account_email as send_account_email_task
from accounts.user_writes import ConditionFailed, update_user, user_or_404
from courseproject.api.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    PermissionDeniedError,
)
from courseproject.background.dispatch import dispatch, new_event_id
from courseproject.background.events import announce
from courseproject.dynamo.transactions import commit_transaction
from courseproject.ids import new_id


class _NoModelFields:
    def get_field(self, name: str) -> None:
        raise FieldDoesNotExist(name)  # the validator then names the attribute itself


class _PasswordOwner:
    """What Django's UserAttributeSimilarityValidator reads of a user."""

    _meta = _NoModelFields()

    def __init__(self, *, email: str, name: str) -> None:
        self.email = email
        self.username = email.split("@", maxsplit=1)[0]
        self.first_name = name


def validate_new_password(password: str, *, email: str, name: str, field: str = "password") -> None:
    try:
        validate_password(password, user=_PasswordOwner(email=email, name=name))
    except DjangoValidationError as error:
        raise InvalidInputError(" ".join(error.messages), code="password_invalid", field=field) from None


def _check_email_domain(email: str) -> None:
    allowed = settings.ALLOWED_EMAIL_DOMAINS
    if allowed and email.rpartition("@")[2] not in allowed:
        raise InvalidInputError(
            f"Register with your university email address ({', '.join(allowed)}).",
            code="email_domain_not_allowed",
            field="email",
        )


def register_user(
    *,
    email: str,
    password: str,
    name: str,
    role: Role = Role.STUDENT,
    actor_id: str | None = None,
    self_registered: bool = False,
) -> User:
    """Create a user; the email claim and the user item are written in one transaction.

    A student registering themselves (`self_registered`, the API's registration) must use an allowed
    domain and, when EMAIL_VERIFICATION_REQUIRED, confirm the address from the email sent here before
    enrolling. Users an admin creates (the admin, create_user, imports) are taken as verified.
    """
    email = normalize_email(email)
    if self_registered:
        _check_email_domain(email)
    validate_new_password(password, email=email, name=name)
    now = timezone.now()
    user = User(
        user_id=new_id(),
        email=email,
        name=name.strip(),
        role=Role(role).value,
        password_hash=make_password(password),
        is_active=True,
        email_verified=not self_registered,
        token_version=0,
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
    if self_registered and settings.EMAIL_VERIFICATION_REQUIRED:
        send_account_email(user, kind="verify_email")
    return user


def send_account_email(user: User, *, kind: str) -> None:
    """Queue an email with a link (verify_email, password_reset). The worker builds the link's token
    when it sends, so no secret travels in the task's arguments or rests in the outbox."""
    dispatch(send_account_email_task, event_id=new_event_id(), kind=kind, user_id=user.user_id)


# Compared against when the email is unknown, so both paths cost one hash (no user enumeration by timing).
_DUMMY_PASSWORD_HASH: str | None = None


def check_credentials(*, email: str, password: str) -> tuple[User | None, bool]:
    """The user with this email (None if unknown) and whether the password is theirs and they are
    active. Costs one password hash either way, so timing does not tell which emails exist."""
    global _DUMMY_PASSWORD_HASH
    user = user_by_email(email=email)
    if user is None:
        if _DUMMY_PASSWORD_HASH is None:
            _DUMMY_PASSWORD_HASH = make_password(uuid.uuid4().hex)
        check_password(password, _DUMMY_PASSWORD_HASH)
        return None, False
    return user, bool(check_password(password, user.password_hash) and user.is_active)


def sign_in(*, email: str, password: str, client_address: str) -> dict[str, object]:
    """Access and refresh tokens with the profile, or 401 invalid_credentials; both are audited."""
    user, valid = check_credentials(email=email, password=password)
    if user is None or not valid:
        announce_sign_in(
            user_id=user.user_id if user else None,
            action="sign_in_failed",
            kind=SignInKind.API,
            client_address=client_address,
            email=None if user else normalize_email(email)[:254],
        )
        raise AuthenticationError()
    return api_sign_in(user, client_address=client_address)


def update_profile(*, user_id: str, name: str, actor_id: str) -> User:
    return update_user(user_or_404(user_id), [User.name.set(name.strip())], actor_id=actor_id)


def change_user(*, actor: Actor, user_id: str, name: str, role: Role, is_active: bool) -> User:
    """An admin changes a user's name, role or active flag (promoting, demoting, deactivating).

    A new role or a deactivation bumps the token version: the user's tokens and admin sessions end at
    their next request, and they sign in again under the new role.
    """
    if not actor.is_admin:
        raise PermissionDeniedError("Only admins can change users.")
    user = user_or_404(user_id)
    if user_id == actor.user_id and (Role(role) != Role.ADMIN or not is_active):
        # The last admin could otherwise lock everyone out of the admin site.
        raise InvalidInputError("You cannot remove your own admin access.", code="own_access", field="role")
    actions = [User.name.set(name.strip()), User.role.set(Role(role).value), User.is_active.set(is_active)]
    if Role(role).value != user.role or bool(is_active) != bool(user.is_active):
        actions.append(User.token_version.add(1))
    try:
        # Whether to bump the version was decided on what was read: nobody may have changed it since.
        return update_user(user, actions, actor_id=actor.user_id, condition=User.revision == user.revision)
    except ConditionFailed:
        raise ConflictError("The user was changed meanwhile; reload and try again.", code="user_changed") from None
