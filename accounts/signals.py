"""The user_changed signal and the receiver that writes profiles through to the cache.

user_changed(sender=User, user_id, action, actor_id, revision, before, after)
    Sent by accounts.services after a write succeeded. action is "created" or "updated"; revision
    is the user's after the change; before/after are account representations, the profile plus
    is_active (None when absent).
"""

from __future__ import annotations

from typing import Any

from django.dispatch import Signal

from accounts.serializers import profile_of_account
from courseproject.api.rendering import dumps
from courseproject.caching import keys
from courseproject.caching.entities import put_entity

user_changed = Signal()


def write_profile_through(*, user_id: str, revision: int, after: dict[str, Any] | None, **_: Any) -> None:
    if after is not None:
        put_entity(keys.user_profile(user_id), revision=revision, payload=dumps(profile_of_account(after)))
