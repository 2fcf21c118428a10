"""The one way users are updated: conditional, revision-bumping, announced (user_changed), and the
token-version bump that ends every sign-in of a user."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from pynamodb.exceptions import UpdateError
from pynamodb.expressions.update import Action

from accounts.models import User
from accounts.selectors import user_by_id
from accounts.serializers import user_account
from accounts.signals import user_changed
from courseproject.api.errors import NotFoundError
from courseproject.background.events import announce


class ConditionFailed(Exception):
    """The user changed in a way the caller's condition rules out (a reset token already used)."""


def user_or_404(user_id: str) -> User:
    user = user_by_id(user_id=user_id)
    if user is None:
        raise NotFoundError("User not found.", code="user_not_found")
    return user


def update_user(
    user: User, actions: list[Action], *, actor_id: str, action: str = "updated", condition: Any = None
) -> User:
    """Apply `actions` to a user read just before, bump its revision and announce the change.
    A failed extra `condition` raises ConditionFailed."""
    before = user_account(user)
    try:
        user.update(
            actions=[*actions, User.updated_at.set(timezone.now()), User.revision.add(1)],
            condition=User.user_id.exists() & condition if condition is not None else User.user_id.exists(),
        )
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            if condition is not None and user_by_id(user_id=user.user_id) is not None:
                raise ConditionFailed() from None
            raise NotFoundError("User not found.", code="user_not_found") from None
        raise
    announce(
        user_changed,
        sender=User,
        user_id=user.user_id,
        action=action,
        actor_id=actor_id,
        revision=int(user.revision),
        before=before,
        after=user_account(user),
    )
    return user


def revoke_all_sign_ins(*, user_id: str, actor_id: str, action: str = "signed_out_everywhere") -> User:
    """Bump the user's token version: every access and refresh token and admin session of theirs
    ends at its next request (the cached user entry is written through with the new version)."""
    return update_user(user_or_404(user_id), [User.token_version.add(1)], actor_id=actor_id, action=action)
