"""Settings for AWS: every secret and endpoint from the environment, refusing unsafe defaults."""

import os

from .base import *  # noqa: F403
from .base import SECRET_KEY, env_bool, env_int, env_list, env_str, require

DEBUG = False

require(
    "DJANGO_SECRET_KEY" in os.environ and len(SECRET_KEY) >= 50 and "not-for-production" not in SECRET_KEY,
    "Production needs DJANGO_SECRET_KEY set to a random string of at least 50 characters.",
)
require("DJANGO_ALLOWED_HOSTS" in os.environ, "Production needs DJANGO_ALLOWED_HOSTS.")
require("REDIS_URL" in os.environ, "Production needs REDIS_URL (ElastiCache primary endpoint).")
require("CELERY_BROKER_URL" in os.environ, "Production needs CELERY_BROKER_URL.")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "")

# On AWS the endpoint comes from the region; an explicit one is only for testing this file.
DYNAMODB_ENDPOINT_URL = os.environ.get("DYNAMODB_ENDPOINT_URL") or None
DYNAMODB_TABLE_PREFIX = os.environ.get("DYNAMODB_TABLE_PREFIX", "prod-")

# JSON lines with request ids, one line per request (gunicorn's access log is then redundant).
LOG_FORMAT = env_str("LOG_FORMAT", "json")
REQUEST_LOG = env_bool("REQUEST_LOG", True)
LOGGING["handlers"]["console"]["formatter"] = LOG_FORMAT
LOGGING["loggers"]["courseproject.requests"]["level"] = "INFO" if REQUEST_LOG else "WARNING"

# The load balancer terminates TLS and says so in X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_REDIRECT_EXEMPT = [r"^api/health$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# The header only allows submitting the domain to browsers' preload list; submitting is a separate choice.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
USE_X_FORWARDED_HOST = env_bool("USE_X_FORWARDED_HOST", False)
