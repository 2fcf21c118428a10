"""Reads of users."""

from __future__ import annotations

from accounts.models import User
from courseproject.dynamo import batch_get


def normalize_email(email: str) -> str:
    return email.strip().lower()


def user_by_id(*, user_id: str) -> User | None:
    try:
        return User.get(user_id, consistent_read=True)
    except User.DoesNotExist:
        return None


def user_by_email(*, email: str) -> User | None:
    """Login's lookup through the UsersByEmail index (one Query, password hash included)."""
    for user in User.by_email.query(normalize_email(email), limit=1):
        return user
    return None


def users_by_ids(*, user_ids: list[str]) -> dict[str, User]:
    return batch_get(User, user_ids)
