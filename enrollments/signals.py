"""Signals the enrollment services send after a transaction has committed.

enrollment_changed(sender=Enrollment, user_id, course_id, semester_id, action, actor_id, enrollment)
    action is "enrolled" or "dropped"; enrollment is the representation after the change.
"""

from django.dispatch import Signal

enrollment_changed = Signal()
