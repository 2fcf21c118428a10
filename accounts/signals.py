"""Signals the accounts services send after a write has succeeded.

user_changed(sender=User, user_id, action, actor_id, before, after)
    action is "created" or "updated"; before/after are profile representations (None when absent).
"""

from django.dispatch import Signal

user_changed = Signal()
