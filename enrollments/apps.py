from django.apps import AppConfig


class EnrollmentsConfig(AppConfig):
    name = "enrollments"
    verbose_name = "Enrollments"

    def ready(self) -> None:
        from courses.signals import course_changed
        from enrollments.signals import (
            enrollment_changed,
            queue_enrollment_email,
            refresh_enrollment_caches,
            refresh_schedules_after_course_change,
        )

        enrollment_changed.connect(refresh_enrollment_caches, dispatch_uid="enrollments.refresh_enrollment_caches")
        enrollment_changed.connect(queue_enrollment_email, dispatch_uid="enrollments.queue_enrollment_email")
        course_changed.connect(refresh_schedules_after_course_change, dispatch_uid="enrollments.refresh_schedules")
