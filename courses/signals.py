"""Signals the course services send after a write has succeeded.

course_changed(sender=Course, course_id, semester_id, department_id, instructor_id, action, actor_id, before, after)
    action is "created", "updated" or "deleted"; before/after are course representations or None.
"""

from django.dispatch import Signal

course_changed = Signal()
