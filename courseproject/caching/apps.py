from django.apps import AppConfig


class CachingConfig(AppConfig):
    """Holds the repair task; reports its key families to the counters behind /metrics."""

    name = "courseproject.caching"
    label = "caching"
    verbose_name = "Cache"

    def ready(self) -> None:
        from courseproject.caching.keys import FAMILIES
        from courseproject.observability.counters import report_families

        report_families(*FAMILIES)
