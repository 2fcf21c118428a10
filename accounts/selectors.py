"""Reads of users."""

from __future__ import annotations

from typing import Any

import orjson

from accounts.auth_state import auth_state_entry
from accounts.models import SignIn, User, UserEmail
from accounts.serializers import user_profile
from courseproject.api.errors import NotFoundError
from courseproject.api.pagination import Page, query_page
from courseproject.api.rendering import dumps
from courseproject.caching import keys
from courseproject.caching.entities import cached_entities, cached_entity, fill_entities
from courseproject.dynamo.batch import batch_get


def normalize_email(email: str) -> str:
    return email.strip().lower()


def user_by_id(*, user_id: str) -> User | None:
    try:
        return User.get(user_id, consistent_read=True)
    except User.DoesNotExist:
        return None


def user_by_email(*, email: str) -> User | None:
    """Login's lookup: the email claim, then the user, both read consistently.

    An index by email would answer in one Query, but a GSI is eventually consistent, so a student
    who registers and signs in at once could be told their account does not exist (and an index
    projecting the user would copy password hashes).
    """
    try:
        claim = UserEmail.get(normalize_email(email), consistent_read=True)
    except UserEmail.DoesNotExist:
        return None
    return user_by_id(user_id=claim.user_id)


def user_by_email_or_id(*, email_or_id: str) -> User | None:
    """The admin's way to name a user: an email, or a user id."""
    value = email_or_id.strip()
    if not value or len(value) > 254:
        return None
    return user_by_email(email=value) if "@" in value else user_by_id(user_id=value)


def _profile_entry(user: User) -> tuple[int, bytes]:
    return int(user.revision), dumps(user_profile(user))


def _load_profile(user_id: str) -> tuple[int, bytes] | None:
    user = user_by_id(user_id=user_id)
    return _profile_entry(user) if user is not None else None


def keep_signed_in_user(user: User) -> None:
    """Store the profile and the authentication state of a user who just signed in, from the
    consistent read the sign-in made, so that their first requests (the token check, GET
    /api/auth/me) are hits. A fill like a miss's: a newer revision already cached wins."""
    fill_entities(
        [
            (keys.user_profile(user.user_id), *_profile_entry(user)),
            (keys.user_auth(user.user_id), *auth_state_entry(user)),
        ]
    )


def profile_json(*, user_id: str) -> bytes:
    """GET /api/auth/me: the profile from the cache (written through on every change)."""
    payload, _ = cached_entity(keys.user_profile(user_id), load=lambda: _load_profile(user_id))
    if payload is None:
        raise NotFoundError("User not found.", code="user_not_found")
    return payload


def sign_in_by_id(*, sign_in_id: str) -> SignIn | None:
    try:
        return SignIn.get(sign_in_id, consistent_read=True)
    except SignIn.DoesNotExist:
        return None


def _load_profiles(user_ids: list[str]) -> dict[str, tuple[int, bytes]]:
    users = batch_get(User, user_ids, consistent_read=True)
    return {user_id: _profile_entry(user) for user_id, user in users.items()}


def cached_profiles(*, user_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Profiles by id for lists that embed users (rosters); absent ids are left out."""
    payloads, _ = cached_entities(
        {user_id: keys.user_profile(user_id) for user_id in user_ids}, load_missing=_load_profiles
    )
    return {user_id: orjson.loads(payload) for user_id, payload in payloads.items()}


def users_with_role(*, role: str, limit: int, cursor: str | None) -> Page[User]:
    """One page of the users with a role, by email (the admin's user list). The index holds keys
    only, so the page's users are read with one BatchGetItem."""
    keys_page = query_page(User.by_role, role, scope=f"users:role:{role}", limit=limit, cursor=cursor)
    users = batch_get(User, [item.user_id for item in keys_page.items], consistent_read=True)
    return keys_page.map(lambda items: [users[item.user_id] for item in items if item.user_id in users])
