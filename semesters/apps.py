from django.apps import AppConfig


class SemestersConfig(AppConfig):
    name = "semesters"
    verbose_name = "Semesters"

    def ready(self) -> None:
        from semesters.signals import refresh_semester_caches, semester_changed

        semester_changed.connect(refresh_semester_caches, dispatch_uid="semesters.cache")
