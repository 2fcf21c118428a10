from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Holds `manage.py seed_demo`; `make run` loads the demo data with it, the benchmark a larger set."""

    name = "demo"
    verbose_name = "Demo data"
