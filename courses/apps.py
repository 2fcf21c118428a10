from django.apps import AppConfig


class CoursesConfig(AppConfig):
    name = "courses"
    verbose_name = "Courses"

    def ready(self) -> None:
        from courses.signals import course_changed, refresh_course_caches

        course_changed.connect(refresh_course_caches, dispatch_uid="courses.refresh_course_caches")
