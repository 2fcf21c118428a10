"""The accounts' signals and the receiver that writes users through to the cache.

user_changed(sender=User, user_id, action, actor_id, revision, before, after)
    Sent by accounts.services after a write succeeded. action is "created", "updated",
    "password_changed", "password_reset", "email_verified" or "signed_out_everywhere"; revision is
    the user's after the change; before/after are account representations (serializers.user_account:
    the profile plus is_active and token_version; None when absent).

sign_in_event(sender=User, user_id, action, actor_id, detail)
    Sent on a sign-in and its end: action is "signed_in", "sign_in_failed", "signed_out" or
    "refresh_token_reused"; user_id is None for a failed sign-in with an unknown email (detail then
    names the email); detail has the channel ("api" or "admin") and the client address.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import Signal

from accounts.serializers import auth_state_of_account, profile_of_account
from courseproject.api.rendering import dumps
from courseproject.caching import keys
from courseproject.caching.entities import put_entities

user_changed = Signal()
sign_in_event = Signal()


def write_profile_through(*, user_id: str, revision: int, after: dict[str, Any] | None, **_: Any) -> None:
    """The profile and the authentication state, in one round trip. A token version bumped here is
    what ends a user's sign-ins at their next request."""
    if after is not None:
        put_entities(
            [
                (keys.user_profile(user_id), revision, dumps(profile_of_account(after))),
                (keys.user_auth(user_id), revision, dumps(auth_state_of_account(after))),
            ],
            # An instance with the cache off must still tell the others that a token ended.
            even_when_disabled=True,
        )
