from django.apps import AppConfig


class EnrollmentsConfig(AppConfig):
    name = "enrollments"
    verbose_name = "Enrollments"

    def ready(self) -> None:
        from accounts.signals import user_changed
        from courses.signals import course_changed
        from enrollments.events import enrollment_changed
        from enrollments.signals import (
            promote_after_capacity_raise,
            promote_into_freed_seat,
            queue_enrollment_email,
            refresh_enrollment_caches,
            refresh_schedules_after_course_change,
            release_deactivated_student,
        )

        enrollment_changed.connect(refresh_enrollment_caches, dispatch_uid="enrollments.refresh_enrollment_caches")
        enrollment_changed.connect(queue_enrollment_email, dispatch_uid="enrollments.queue_enrollment_email")
        enrollment_changed.connect(promote_into_freed_seat, dispatch_uid="enrollments.promote_into_freed_seat")
        course_changed.connect(refresh_schedules_after_course_change, dispatch_uid="enrollments.refresh_schedules")
        course_changed.connect(promote_after_capacity_raise, dispatch_uid="enrollments.promote_after_capacity_raise")
        user_changed.connect(release_deactivated_student, dispatch_uid="enrollments.release_deactivated_student")
