import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from courseproject.gc_freeze import freeze_when_warm

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "courseproject.settings.local")

application = get_wsgi_application()
# Only the web server's processes load this module: tests and management commands keep the collector as it is.
freeze_when_warm(settings.WEB_GC_FREEZE_AFTER_REQUESTS)
