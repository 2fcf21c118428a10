from django.apps import AppConfig


class EnrollmentsConfig(AppConfig):
    name = "enrollments"
    verbose_name = "Enrollments"

    def ready(self) -> None:
        from enrollments.signals import enrollment_changed, queue_enrollment_email, refresh_enrollment_caches

        enrollment_changed.connect(refresh_enrollment_caches, dispatch_uid="enrollments.refresh_enrollment_caches")
        enrollment_changed.connect(queue_enrollment_email, dispatch_uid="enrollments.queue_enrollment_email")
