from django.apps import AppConfig


class BenchmarksConfig(AppConfig):
    """Installed only by benchmarks.settings: turns on the per-request counters."""

    name = "benchmarks"
    verbose_name = "Benchmarks"

    def ready(self) -> None:
        from benchmarks import instrumentation

        instrumentation.install()
