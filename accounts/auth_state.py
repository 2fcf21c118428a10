"""What every authenticated request checks its token against, kept apart from the other selectors:
DRF imports the authentication class while it starts up, before the API's error module is importable."""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from accounts.models import User
from accounts.serializers import auth_state_of_account, user_account
from courseproject.api.rendering import dumps
from courseproject.caching import keys
from courseproject.caching.entities import cached_entity


@dataclass(frozen=True)
class AuthState:
    token_version: int
    is_active: bool
    role: str
    email_verified: bool


def auth_state_entry(user: User) -> tuple[int, bytes]:
    """A consistently read user's cached authentication state: its revision and payload."""
    return int(user.revision), dumps(auth_state_of_account(user_account(user)))


def _load_auth_state(user_id: str) -> tuple[int, bytes] | None:
    try:
        user = User.get(user_id, consistent_read=True)
    except User.DoesNotExist:
        return None
    return auth_state_entry(user)


def auth_state(*, user_id: str) -> AuthState | None:
    """One Redis GET on a hit, written through on every change of the user (accounts/signals.py); on
    a miss, or with Redis away, a consistent read of the user. Never skipped."""
    payload, _ = cached_entity(keys.user_auth(user_id), load=lambda: _load_auth_state(user_id))
    return AuthState(**orjson.loads(payload)) if payload is not None else None
