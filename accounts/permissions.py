"""Role checks for views. Ownership of a course is checked by the course services."""

from rest_framework.permissions import BasePermission


class IsStudent(BasePermission):
    message = "Only students can do this."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_student)


class IsInstructorOrAdmin(BasePermission):
    message = "Only instructors and admins can do this."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and (request.user.is_instructor or request.user.is_admin))


class IsAdmin(BasePermission):
    message = "Only admins can do this."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_admin)
