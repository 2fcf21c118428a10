"""Who may manage a course: its instructor or an admin."""

from accounts.models import Actor
from courseproject.api.errors import PermissionDeniedError


def ensure_can_manage(actor: Actor, *, instructor_id: str) -> None:
    if actor.is_admin or (actor.is_instructor and instructor_id == actor.user_id):
        return
    raise PermissionDeniedError("Only the course's instructor or an admin can do this.")
