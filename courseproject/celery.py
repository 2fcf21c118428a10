"""The Celery app: Redis broker, configuration from Django settings (CELERY_* names)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "courseproject.settings.local")

app = Celery("courseproject")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
