from django.apps import AppConfig


class BackgroundConfig(AppConfig):
    """Holds the outbox and ledger tables, the relay task and `manage.py relay_outbox`."""

    name = "courseproject.background"
    label = "background"
    verbose_name = "Background work"

    def ready(self) -> None:
        # The Celery app, configured from settings, before any task is published from this process.
        from courseproject import celery  # noqa: F401

        # Connects the request signals that publish a request's tasks after its response.
        from courseproject.background import dispatch  # noqa: F401
