from django.apps import AppConfig


class CourseProjectConfig(AppConfig):
    """Holds the project-wide management commands (create_indexes, seed_demo)."""

    name = "courseproject"
    verbose_name = "Course registration"
