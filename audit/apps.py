from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        from accounts.signals import user_changed
        from audit.signals import (
            audit_course_change,
            audit_enrollment_change,
            audit_semester_change,
            audit_transcript_recorded,
            audit_user_change,
        )
        from courses.signals import course_changed
        from enrollments.events import enrollment_changed, transcript_recorded
        from semesters.signals import semester_changed

        course_changed.connect(audit_course_change, dispatch_uid="audit.course")
        enrollment_changed.connect(audit_enrollment_change, dispatch_uid="audit.enrollment")
        user_changed.connect(audit_user_change, dispatch_uid="audit.user")
        semester_changed.connect(audit_semester_change, dispatch_uid="audit.semester")
        transcript_recorded.connect(audit_transcript_recorded, dispatch_uid="audit.transcript")
