"""The Celery app: Redis broker, configuration from Django settings (CELERY_* names), beat schedule."""

import os

from celery import Celery
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "courseproject.settings.local")

app = Celery("courseproject")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Emails and audit records wait while the web refuses writes as busy (courseproject/background/yielding.py).
app.steps["consumer"].add("courseproject.background.yielding:YieldToWriteBursts")


@app.on_after_configure.connect
def schedule_periodic_tasks(sender: Celery, **_: object) -> None:
    sender.add_periodic_task(
        settings.OUTBOX_RELAY_INTERVAL_SECONDS, sender.signature("courseproject.relay_outbox"), name="relay outbox"
    )
    sender.add_periodic_task(
        settings.CACHE_WARM_INTERVAL_SECONDS, sender.signature("courses.warm_hot_semesters"), name="warm caches"
    )
    sender.add_periodic_task(
        settings.WAITLIST_SWEEP_INTERVAL_SECONDS,
        sender.signature("enrollments.sweep_waitlists"),
        name="sweep waitlists",
    )
    if settings.RUSH_SCALING_RESOURCE_ID:
        sender.add_periodic_task(
            settings.RUSH_SCALING_INTERVAL_SECONDS,
            sender.signature("semesters.schedule_rush_scaling"),
            name="schedule the web service's scale-out ahead of registration openings",
        )
    if settings.CLOUDWATCH_METRICS_ENABLED:
        sender.add_periodic_task(
            settings.CLOUDWATCH_PUSH_INTERVAL_SECONDS,
            sender.signature("courseproject.push_metrics"),
            name="push metrics to CloudWatch",
        )
