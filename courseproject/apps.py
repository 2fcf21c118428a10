from django.apps import AppConfig


class CourseProjectConfig(AppConfig):
    """Holds the project-wide management commands (create_indexes, seed_demo)."""

    name = "courseproject"
    verbose_name = "Course registration"

    def ready(self) -> None:
        # Connects the request signals that publish a request's tasks after its response.
        from courseproject import background  # noqa: F401
