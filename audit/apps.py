from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        from accounts.signals import sign_in_event, user_changed
        from audit.signals import (
            audit_course_change,
            audit_enrollment_change,
            audit_roster_export,
            audit_semester_change,
            audit_sign_in_event,
            audit_transcript_recorded,
            audit_user_change,
        )
        from courses.signals import course_changed
        from enrollments.events import enrollment_changed, roster_exported, transcript_recorded
        from semesters.signals import semester_changed

        course_changed.connect(audit_course_change, dispatch_uid="audit.course")
        enrollment_changed.connect(audit_enrollment_change, dispatch_uid="audit.enrollment")
        user_changed.connect(audit_user_change, dispatch_uid="audit.user")
        sign_in_event.connect(audit_sign_in_event, dispatch_uid="audit.sign_in")
        roster_exported.connect(audit_roster_export, dispatch_uid="audit.roster_export")
        semester_changed.connect(audit_semester_change, dispatch_uid="audit.semester")
        transcript_recorded.connect(audit_transcript_recorded, dispatch_uid="audit.transcript")
