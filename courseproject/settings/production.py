"""Settings for AWS: every secret and endpoint from the environment, refusing unsafe defaults."""

import os

from .base import *  # noqa: F403
from .base import JWT_SIGNING_KEY, METRICS_TOKEN, SECRET_KEY, env_bool, env_int, env_list, env_str, require

DEBUG = False

require(
    "DJANGO_SECRET_KEY" in os.environ and len(SECRET_KEY) >= 50 and "not-for-production" not in SECRET_KEY,
    "Production needs DJANGO_SECRET_KEY set to a random string of at least 50 characters.",
)
require("DJANGO_ALLOWED_HOSTS" in os.environ, "Production needs DJANGO_ALLOWED_HOSTS.")
require("REDIS_URL" in os.environ, "Production needs REDIS_URL (ElastiCache primary endpoint).")
require("CELERY_BROKER_URL" in os.environ, "Production needs CELERY_BROKER_URL.")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "")

# Throttles, request logs and the audit log take the client address NUM_PROXIES entries from the end
# of X-Forwarded-For. Too few and every client is the load balancer (one throttle locks out the
# university); too many and a client names its own address. No default here: say how many.
require(
    os.environ.get("NUM_PROXIES", "") != "",
    "Production needs NUM_PROXIES: how many proxies append to X-Forwarded-For in front of gunicorn "
    "(1 behind an application load balancer, 0 if clients connect directly).",
)

# Every token is signed with this key: 32 random bytes or more (43+ characters of base64, 64 of hex),
# never the secret key, so that neither leaks the other. Few distinct characters mean a placeholder.
JWT_SIGNING_KEY_MIN_LENGTH = 43
require(
    "JWT_SIGNING_KEY" in os.environ
    and len(JWT_SIGNING_KEY) >= JWT_SIGNING_KEY_MIN_LENGTH
    and len(set(JWT_SIGNING_KEY)) >= 10
    and JWT_SIGNING_KEY != SECRET_KEY,
    "Production needs JWT_SIGNING_KEY: at least 32 random bytes, e.g. "
    "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`, and not DJANGO_SECRET_KEY.",
)

# /metrics answers only behind METRICS_TOKEN; without one it is off (404).
METRICS_ENABLED = env_bool("METRICS_ENABLED", bool(METRICS_TOKEN))
require(
    not METRICS_ENABLED or bool(METRICS_TOKEN),
    "Production serves /metrics only behind METRICS_TOKEN: set it, or METRICS_ENABLED=false to turn /metrics off.",
)

# seed_demo creates admin@demo.edu and others with a published password. A staging stack seeded for
# a load test (docs/deploy.md) sets SEED_DEMO_ALLOWED=true.
SEED_DEMO_ALLOWED = env_bool("SEED_DEMO_ALLOWED", False)

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

# Self-registered students confirm their email before enrolling; the links lead to the registration site.
EMAIL_VERIFICATION_REQUIRED = env_bool("EMAIL_VERIFICATION_REQUIRED", True)
require(
    "PASSWORD_RESET_URL" in os.environ and "EMAIL_VERIFICATION_URL" in os.environ,
    "Production needs PASSWORD_RESET_URL and EMAIL_VERIFICATION_URL (the registration site's pages for the links "
    "in account emails).",
)
