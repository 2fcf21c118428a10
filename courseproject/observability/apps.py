from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    """Holds the CloudWatch push task; the middleware, views and log formatter are named in settings and urls."""

    name = "courseproject.observability"
    label = "observability"
    verbose_name = "Observability"
