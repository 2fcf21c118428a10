from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    """Holds the CloudWatch push task and carries request ids into Celery tasks; the middleware,
    views and log formatter are named in settings and urls."""

    name = "courseproject.observability"
    label = "observability"
    verbose_name = "Observability"

    def ready(self) -> None:
        # Connects the Celery signal receivers that put the request id on published tasks and bind
        # it while a worker runs them, and that keep task arguments out of logs (web processes and
        # workers alike).
        from courseproject.observability import task_arguments, task_request_id  # noqa: F401
