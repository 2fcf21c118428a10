"""Settings shared by every environment.

Every value that differs between machines comes from an environment variable, read here and only
here. The defaults point at the services `make run` starts, so a second terminal needs no set-up.
"""

# Longer than 300 lines: every environment variable is read in this one file, next to the reason
# for its default, in the order docs/configuration.md lists them.

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ImproperlyConfigured

from courseproject.ids import semester_of
from courseproject.rates import parse_rate

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    return value


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}") from None


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def env_rate(name: str, default: str) -> str:
    """A throttle rate such as 30/min or 20/15min (courseproject/rates.py), checked now."""
    raw = env_str(name, default) or default
    try:
        parse_rate(raw)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name}: {error}") from None
    return raw


def env_redis_url(name: str, default: str, *, auth_token_name: str) -> str:
    """A Redis URL, with the AUTH token from `auth_token_name` put in when that is set: an ECS task
    definition injects a secret as a whole variable and cannot splice it into a URL."""
    url = env_str(name, default)
    token = env_str(auth_token_name, "")
    if not token:
        return url
    parts = urlsplit(url)
    if parts.password:
        raise ImproperlyConfigured(f"{name} has a password and {auth_token_name} is set: give the token once")
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f":{quote(token, safe='')}@{host}"))


def env_time_zone(name: str, default: str) -> str:
    """A zone of the IANA database, checked now: a typo must stop start-up, not shift every deadline."""
    raw = env_str(name, default) or default
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ImproperlyConfigured(
            f"{name} must be a time zone of the IANA database, like America/New_York, not {raw!r} "
            "(or the time zone database is missing: install tzdata)"
        ) from None
    return raw


# --- Django core -------------------------------------------------------------------------------

SECRET_KEY = env_str("DJANGO_SECRET_KEY", "local-development-key-not-for-production")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")

INSTALLED_APPS = [
    # The admin's templates, messages and auth middleware; admin users are DynamoDB users (see
    # accounts/admin_sign_in.py), so Django's auth and contenttypes tables are never used.
    "django.contrib.admin.apps.SimpleAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # The core, each part an app of its own (tables, tasks, management commands); none imports the apps below.
    "courseproject.dynamo.apps.DynamoConfig",
    "courseproject.observability.apps.ObservabilityConfig",
    "courseproject.background.apps.BackgroundConfig",
    "courseproject.caching.apps.CachingConfig",
    # The domain.
    "accounts.apps.AccountsConfig",
    "semesters.apps.SemestersConfig",
    "courses.apps.CoursesConfig",
    "enrollments.apps.EnrollmentsConfig",
    "audit.apps.AuditConfig",
    "demo.apps.DemoConfig",
    # Last: it collects the sections every app's admin.py registers.
    "courseproject.adminsite.apps.AdminSiteConfig",
]

MIDDLEWARE = [
    # First: answers the load balancer's GET /api/live whatever the Host, before anything checks it.
    "courseproject.observability.liveness.LivenessMiddleware",
    "courseproject.observability.request_log.RequestMetricsMiddleware",
    # Cache-Control: no-store on every API answer that did not choose its own, errors included.
    "courseproject.api.no_store.NoStoreMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Runs ADMIN_MIDDLEWARE (below) for /admin/ only.
    "courseproject.adminsite.middleware.AdminOnlyMiddleware",
    # X-Frame-Options: DENY on every answer, the API's included.
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Refuses an enroll or drop while this process's write slots and queue are full, before DRF.
    "enrollments.admission.WritesBusyMiddleware",
    # Innermost: settles a read's token check that no cached read took before the answer leaves.
    "accounts.authentication.TokenCheckMiddleware",
]
# The cookie-authenticated admin's chain, run by AdminOnlyMiddleware in this order. The API takes
# bearer tokens (DRF sets request.user from them; its views are CSRF-exempt) and never sees these
# cookies (their path is /admin/), so an API request skips six layers that would do nothing for it.
ADMIN_MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Guards the admin's forms against cross-site posts.
    "django.middleware.csrf.CsrfViewMiddleware",
    "accounts.admin_sign_in.AdminAuthenticationMiddleware",
    "courseproject.adminsite.times.UniversityTimeZoneMiddleware",
    "courseproject.adminsite.outage.AdminOutageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
# Django's checks look for the admin's middleware in MIDDLEWARE; courseproject.adminsite checks
# ADMIN_MIDDLEWARE for the same (registration_admin.E001, E002).
SILENCED_SYSTEM_CHECKS = ["admin.E408", "admin.E409", "admin.E410", "security.W003"]

ROOT_URLCONF = "courseproject.urls"
WSGI_APPLICATION = "courseproject.wsgi.application"

# Domain data lives in DynamoDB; Django itself needs no relational database.
DATABASES: dict = {}

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    },
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

# Admin sessions are signed cookies naming a SignIn item, which every admin request reads: signing
# out ends it server-side, and a password change, a demotion, a deactivation or "sign out
# everywhere" ends it too (accounts/admin_sign_in.py). They last ADMIN_SESSION_SECONDS. Only /admin/
# ever receives them, and never from another site's page (SameSite=Strict).
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
SESSION_COOKIE_AGE = env_int("ADMIN_SESSION_SECONDS", 8 * 3600, minimum=60)
SESSION_COOKIE_PATH = "/admin/"
SESSION_COOKIE_NAME = "admin_session"
SESSION_COOKIE_SAMESITE = "Strict"
CSRF_COOKIE_PATH = "/admin/"
CSRF_COOKIE_SAMESITE = "Strict"
MESSAGE_STORAGE = "django.contrib.messages.storage.cookie.CookieStorage"

# The API has no trailing slashes; redirecting a POST would lose its body.
APPEND_SLASH = False

# Bodies above this are refused with 413 before they are parsed.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 64 * 1024, minimum=1024)

# --- DynamoDB ----------------------------------------------------------------------------------

# None means the real AWS endpoint for AWS_REGION.
DYNAMODB_ENDPOINT_URL: str | None = env_str("DYNAMODB_ENDPOINT_URL", "http://127.0.0.1:8601") or None
AWS_REGION = env_str("AWS_REGION", env_str("AWS_DEFAULT_REGION", "us-east-1"))
DYNAMODB_TABLE_PREFIX = env_str("DYNAMODB_TABLE_PREFIX", "local-")
DYNAMODB_MAX_POOL_CONNECTIONS = env_int("DYNAMODB_MAX_POOL_CONNECTIONS", 50, minimum=1)
DYNAMODB_CONNECT_TIMEOUT_SECONDS = env_float("DYNAMODB_CONNECT_TIMEOUT_SECONDS", 1.0)
DYNAMODB_READ_TIMEOUT_SECONDS = env_float("DYNAMODB_READ_TIMEOUT_SECONDS", 5.0)
DYNAMODB_MAX_ATTEMPTS = env_int("DYNAMODB_MAX_ATTEMPTS", 4, minimum=1)
# The lean keep-alive transport under botocore (courseproject/dynamo/transport.py); false sends
# through botocore's own urllib3 session.
DYNAMODB_LEAN_HTTP = env_bool("DYNAMODB_LEAN_HTTP", True)
# Item calls signed and encoded without botocore's request pipeline (courseproject/dynamo/lean_calls.py).
DYNAMODB_LEAN_CALLS = env_bool("DYNAMODB_LEAN_CALLS", True)
# Explicit credentials are only needed for DynamoDB Local; on AWS the instance role provides them.
AWS_ACCESS_KEY_ID = os.environ.get("AWS_ACCESS_KEY_ID")
AWS_SECRET_ACCESS_KEY = os.environ.get("AWS_SECRET_ACCESS_KEY")

# --- Redis: cache, throttling, Celery broker ---------------------------------------------------

# redis://[:password@]host:port/db, or rediss:// for TLS (ElastiCache in-transit encryption).
REDIS_URL = env_redis_url("REDIS_URL", "redis://127.0.0.1:6391/0", auth_token_name="REDIS_AUTH_TOKEN")
# False turns every cache read and write off: each request goes to DynamoDB (the benchmark compares).
CACHE_ENABLED = env_bool("CACHE_ENABLED", True)

CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "cr"),
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            # Short timeouts: a slow Redis must not hold a request longer than DynamoDB would.
            "SOCKET_CONNECT_TIMEOUT": env_float("REDIS_CONNECT_TIMEOUT_SECONDS", 0.25),
            "SOCKET_TIMEOUT": env_float("REDIS_SOCKET_TIMEOUT_SECONDS", 0.25),
            # RESP2: redis-py 8's RESP3 default also turns on maintenance notifications, which relax
            # the socket timeout to 10 s while a server announces maintenance.
            "CONNECTION_POOL_KWARGS": {
                "max_connections": env_int("REDIS_MAX_CONNECTIONS", 50, minimum=1),
                "protocol": 2,
            },
            # A Redis outage must slow requests down, not fail them. (Throttles talk to Redis through
            # courseproject/throttling.py, which counts in memory while Redis is away.)
            "IGNORE_EXCEPTIONS": True,
        },
    }
}
# Redis errors are logged once per burst by courseproject.caching, not once per request here.
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = False
CACHE_KEY_PREFIX = CACHES["default"]["KEY_PREFIX"]

# Seconds each family of cached values lives. Writes invalidate or write through at once, so a TTL
# only bounds how long a value can outlive a missed invalidation; CACHE_TTL_<FAMILY> overrides.
CACHE_TTLS = {
    family: env_int(f"CACHE_TTL_{family.upper()}", default, minimum=1)
    for family, default in {
        "course_detail": 3600,
        "course_seats": 3600,
        "course_waitlist": 3600,
        "course_list": 600,
        "instructor_courses": 600,
        "my_enrollments": 600,
        "roster": 300,
        "user_profile": 3600,
        "user_auth": 3600,
        "semester": 3600,
        "semester_list": 600,
    }.items()
}
# Generation keys outlive every page stamped with them.
CACHE_GENERATION_TTL_SECONDS = 7 * 24 * 3600
# After a Redis error, skip Redis for this long instead of waiting on timeouts in every request.
CACHE_BREAKER_SECONDS = env_float("CACHE_BREAKER_SECONDS", 2.0)
CACHE_ERROR_LOG_INTERVAL_SECONDS = env_float("CACHE_ERROR_LOG_INTERVAL_SECONDS", 60.0)
# Each web process keeps copies of what it serves most (course lists, courses, a student's enrollments)
# and of token checks, and serves them without a Redis round trip while Redis's client-side tracking
# says none of their keys changed (courseproject/caching/local_copies.py); at most this many copies,
# each at most this long, and only while a canary has proven within PROOF_SECONDS that Redis's
# messages arrive (courseproject/caching/tracking.py).
CACHE_LOCAL_COPIES = env_bool("CACHE_LOCAL_COPIES", True)
CACHE_LOCAL_COPY_LIMIT = env_int("CACHE_LOCAL_COPY_LIMIT", 5000, minimum=1)
CACHE_LOCAL_COPY_SECONDS = env_float("CACHE_LOCAL_COPY_SECONDS", 60.0)
CACHE_LOCAL_COPY_PROOF_SECONDS = env_float("CACHE_LOCAL_COPY_PROOF_SECONDS", 10.0)
# A page loaded within this many seconds of a write to its list is kept only that long: GSIs are
# eventually consistent and may not show the write yet.
CACHE_GSI_SETTLE_SECONDS = env_int("CACHE_GSI_SETTLE_SECONDS", 2)
# How long a request waits for another process to load a missing key before loading it itself.
CACHE_LOCK_WAIT_SECONDS = env_float("CACHE_LOCK_WAIT_SECONDS", 1.0)
# If set, GET /metrics requires "Authorization: Bearer <METRICS_TOKEN>". METRICS_ENABLED=false
# answers 404 instead (production's default without a token).
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
METRICS_ENABLED = env_bool("METRICS_ENABLED", True)

# The broker is its own Redis: the cache's evicts keys under memory pressure, a broker must never.
CELERY_BROKER_URL = env_redis_url(
    "CELERY_BROKER_URL", "redis://127.0.0.1:6393/0", auth_token_name="CELERY_BROKER_AUTH_TOKEN"
)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULE_FILENAME = env_str("CELERY_BEAT_SCHEDULE_FILENAME", str(BASE_DIR / ".run" / "celerybeat-schedule"))
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True  # tasks report through DynamoDB records, not a result backend
# Acknowledge after the task ran, not when it was received: a worker that dies mid-task leaves the
# message unacknowledged and it is delivered again (tasks are idempotent, so twice is harmless).
# Tasks made with courseproject.background.background_task also put their message back when their
# pool process dies (reject_on_worker_lost); that is not global, so a task that kills its process
# every time cannot loop forever.
CELERY_TASK_ACKS_LATE = True
# One message reserved per process: a crash re-delivers at most that one, and long tasks cannot
# hold a queue of others hostage.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT_SECONDS", 60, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT_SECONDS", 90, minimum=1)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Unacknowledged messages (their worker died) are delivered again after this many seconds. It
    # must exceed the longest task plus the longest retry countdown (CELERY_RETRY_BACKOFF_MAX_SECONDS
    # + CELERY_TASK_TIME_LIMIT), or a retry waiting for its countdown would be delivered twice.
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT_SECONDS", 900, minimum=1),
    "unacked_restore_interval": env_int("CELERY_UNACKED_RESTORE_INTERVAL_SECONDS", 10, minimum=1),
    "unacked_restore_throttle": 1,
    "socket_connect_timeout": 1,
    # Web processes publish with 0.5 s (set by infra/gunicorn.conf.py): a hung broker must not hold
    # a gunicorn worker; workers keep 5 s for their blocking reads.
    "socket_timeout": env_float("CELERY_BROKER_SOCKET_TIMEOUT_SECONDS", 5.0),
}
# Publishing from a request must fail fast when the broker is away; the outbox takes the task then.
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Longest wait between two retries of a failing task (backoff doubles from 1 s, with full jitter).
CELERY_RETRY_BACKOFF_MAX_SECONDS = env_int("CELERY_RETRY_BACKOFF_MAX_SECONDS", 600, minimum=1)
CELERY_TASK_MAX_RETRIES = env_int("CELERY_TASK_MAX_RETRIES", 12, minimum=0)
# After the broker refused a task, publish straight to the outbox for this long.
BROKER_BREAKER_SECONDS = env_float("BROKER_BREAKER_SECONDS", 30.0)

# --- Background work ---------------------------------------------------------------------------

OUTBOX_RELAY_INTERVAL_SECONDS = env_int("OUTBOX_RELAY_INTERVAL_SECONDS", 30, minimum=1)
# While the web refuses writes as busy (a registration opening's burst), workers stop taking the
# default queue's messages (emails, audit records, cache warming) and take them again
# WORKER_YIELD_GRACE_SECONDS after they last saw a refusal; a stretch lasts at most
# WORKER_YIELD_MAX_SECONDS, then they work at least as long before yielding again
# (courseproject/background/yielding.py). WORKER_YIELD_MAX_SECONDS=0: never yield.
WORKER_YIELD_MAX_SECONDS = env_int("WORKER_YIELD_MAX_SECONDS", 60, minimum=0)
# At least 2: both the web's counts and the workers' checks come once a second.
WORKER_YIELD_GRACE_SECONDS = env_int("WORKER_YIELD_GRACE_SECONDS", 3, minimum=2)
# Promotions from waitlists run on a queue of their own (and, in `make run` and production, a worker
# of their own), so that a backlog of emails and audit records never delays a freed seat.
WAITLIST_QUEUE = "waitlist"
# The metrics push measures the queues' lengths, so it must not wait at the back of one of them;
# every worker also consumes this queue (a task a minute).
METRICS_QUEUE = "metrics"
CELERY_TASK_ROUTES = {
    "enrollments.promote_waitlist": {"queue": WAITLIST_QUEUE},
    "enrollments.sweep_waitlists": {"queue": WAITLIST_QUEUE},
    "courseproject.push_metrics": {"queue": METRICS_QUEUE},
}
# The sweep promotes wherever a seat is free and someone waits (a promotion whose task was lost),
# and expires waitlists at their semester's add deadline.
WAITLIST_SWEEP_INTERVAL_SECONDS = env_int("WAITLIST_SWEEP_INTERVAL_SECONDS", 30, minimum=5)
# Waitlists one student may be on at once in one semester.
MAX_WAITLISTS_PER_SEMESTER = env_int("MAX_WAITLISTS_PER_SEMESTER", 5, minimum=0)


# Semester ids are year * 10 + term (courseproject/ids.py). The admin's course list opens on the
# current one; CURRENT_SEMESTER overrides the one today's date gives.
CURRENT_SEMESTER = env_int("CURRENT_SEMESTER", semester_of(date.today()), minimum=1)
# The university's time zone (daylight saving included): the admin shows and takes times in it;
# the API speaks UTC only. TIME_ZONE stays UTC: Django sets the whole process's zone from it.
UNIVERSITY_TIME_ZONE = env_time_zone("UNIVERSITY_TIME_ZONE", "UTC")
# Semesters always kept warm (comma-separated ids), besides those browsed in the last hour.
CACHE_WARM_SEMESTERS = [int(semester) for semester in env_list("CACHE_WARM_SEMESTERS", "")]
CACHE_WARM_INTERVAL_SECONDS = env_int("CACHE_WARM_INTERVAL_SECONDS", 300, minimum=10)
CACHE_WARM_MAX_PAGES = env_int("CACHE_WARM_MAX_PAGES", 50, minimum=1)
CLOUDWATCH_METRICS_ENABLED = env_bool("CLOUDWATCH_METRICS_ENABLED", False)
CLOUDWATCH_NAMESPACE = env_str("CLOUDWATCH_NAMESPACE", "CourseRegistration")
CLOUDWATCH_PUSH_INTERVAL_SECONDS = env_int("CLOUDWATCH_PUSH_INTERVAL_SECONDS", 60, minimum=10)
DEPLOY_ENVIRONMENT = env_str("DEPLOY_ENVIRONMENT", "local")
# Scheduled scale-out of the web service ahead of each semester's registration opening (tasks take
# minutes to start, the rush lasts seconds). Off without the scalable target's resource id, e.g.
# service/<cluster>/<web service>; infra/compute.yaml sets it.
RUSH_SCALING_RESOURCE_ID = env_str("RUSH_SCALING_RESOURCE_ID", "")
RUSH_SCALING_MIN_CAPACITY = env_int("RUSH_SCALING_MIN_CAPACITY", 10, minimum=1)
RUSH_SCALING_RESTORE_MIN_CAPACITY = env_int("RUSH_SCALING_RESTORE_MIN_CAPACITY", 2, minimum=1)
RUSH_SCALING_LEAD_MINUTES = env_int("RUSH_SCALING_LEAD_MINUTES", 30, minimum=1)
RUSH_SCALING_WINDOW_MINUTES = env_int("RUSH_SCALING_WINDOW_MINUTES", 120, minimum=1)
RUSH_SCALING_INTERVAL_SECONDS = env_int("RUSH_SCALING_INTERVAL_SECONDS", 900, minimum=60)
AUDIT_LOG_RETENTION_DAYS = env_int("AUDIT_LOG_RETENTION_DAYS", 7 * 365, minimum=1)
# `manage.py seed_demo` may run (production refuses it: its accounts have a published password).
SEED_DEMO_ALLOWED = True

# --- Email -------------------------------------------------------------------------------------

# Locally every message is a file in .run/emails; in production SMTP (Amazon SES's SMTP interface
# works) or courseproject.background.email.SESEmailBackend (the SES API with the instance role).
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(BASE_DIR / ".run" / "emails"))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Course Registration <registration@example.edu>")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT_SECONDS", 10, minimum=1)
AWS_SES_REGION = env_str("AWS_SES_REGION", AWS_REGION)

# --- Authentication ----------------------------------------------------------------------------

JWT_SIGNING_KEY = env_str("JWT_SIGNING_KEY", SECRET_KEY)
JWT_ACCESS_LIFETIME_SECONDS = env_int("JWT_ACCESS_LIFETIME_SECONDS", 15 * 60, minimum=30)
JWT_REFRESH_LIFETIME_SECONDS = env_int("JWT_REFRESH_LIFETIME_SECONDS", 7 * 24 * 3600, minimum=60)
JWT_ISSUER = env_str("JWT_ISSUER", "course-registration")
# Two refreshes with one refresh token this close together (two tabs) both succeed; a rotated token
# used later revokes every sign-in of the user. At most 10 s: longer would help a thief.
REFRESH_REUSE_GRACE_SECONDS = min(env_int("REFRESH_REUSE_GRACE_SECONDS", 10, minimum=0), 10)

# Links in account emails lead to the registration site's pages, which POST their token to the API.
PASSWORD_RESET_URL = env_str("PASSWORD_RESET_URL", "http://127.0.0.1:8000/reset-password")
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT_SECONDS", 3600, minimum=60)
EMAIL_VERIFICATION_URL = env_str("EMAIL_VERIFICATION_URL", "http://127.0.0.1:8000/verify-email")
EMAIL_VERIFICATION_TIMEOUT = env_int("EMAIL_VERIFICATION_TIMEOUT_SECONDS", 3 * 24 * 3600, minimum=60)
# Self-registered students confirm their address before they may enroll (production turns it on).
EMAIL_VERIFICATION_REQUIRED = env_bool("EMAIL_VERIFICATION_REQUIRED", False)
# Self-registration only with these email domains (comma-separated, exact); empty allows any.
ALLOWED_EMAIL_DOMAINS = [domain.lower() for domain in env_list("ALLOWED_EMAIL_DOMAINS", "")]

# Throttles (accounts/throttling.py), token buckets in the cache Redis. Sign-in attempts per client
# address whatever the email (a campus sits behind a few NAT addresses), and failed sign-ins per
# account whatever the address: together no request spends a password hash unthrottled.
LOGIN_ADDRESS_THROTTLE_RATE = env_rate("LOGIN_ADDRESS_THROTTLE_RATE", "300/min")
LOGIN_FAILURE_THROTTLE_RATE = env_rate("LOGIN_FAILURE_THROTTLE_RATE", "20/15min")
REGISTER_THROTTLE_RATE = env_rate("REGISTER_THROTTLE_RATE", "60/hour")
PASSWORD_RESET_THROTTLE_RATE = env_rate("PASSWORD_RESET_THROTTLE_RATE", "5/hour")
# Writes per user (enroll, drop, waitlist joins and leaves, course writes): the rate, and how many
# may come at once. A registration rush needs a handful; a loop of enroll and drop is stopped.
WRITE_THROTTLE_RATE = env_rate("WRITE_THROTTLE_RATE", "30/min")
WRITE_THROTTLE_BURST = env_int("WRITE_THROTTLE_BURST", 15, minimum=1)
# Instructors and admins edit many courses in a sitting.
STAFF_WRITE_THROTTLE_RATE = env_rate("STAFF_WRITE_THROTTLE_RATE", "120/min")
STAFF_WRITE_THROTTLE_BURST = env_int("STAFF_WRITE_THROTTLE_BURST", 60, minimum=1)
# Enrolls, drops and waitlist changes each web process runs at once (enrollments/admission.py),
# how many more may wait for a slot (first come, first served), and for how long; past either, a
# write is answered 429 writes_busy with Retry-After (while both are full, before its token is
# checked: WritesBusyMiddleware). So a registration opening's burst of writes, each waiting on
# DynamoDB, cannot take every thread from the reads. WEB_WRITE_SLOTS=0: no cap.
# By default writes, running and waiting, hold at most half the threads: reads keep the other half.
WEB_WRITE_SLOTS = env_int("WEB_WRITE_SLOTS", 2)
WEB_WRITE_QUEUE = env_int("WEB_WRITE_QUEUE", max(0, env_int("WEB_THREADS", 8, minimum=1) // 2 - WEB_WRITE_SLOTS))
WEB_WRITE_WAIT_SECONDS = env_float("WEB_WRITE_WAIT_SECONDS", 15.0)
WEB_WRITE_RETRY_AFTER_SECONDS = env_int("WEB_WRITE_RETRY_AFTER_SECONDS", 1, minimum=1)
# After this many requests a web process collects its garbage once and freezes what is left, so the
# collector's full walks skip the objects that live as long as the process (courseproject/wsgi.py).
# 0: never.
WEB_GC_FREEZE_AFTER_REQUESTS = env_int("WEB_GC_FREEZE_AFTER_REQUESTS", 1000)

AUTH_PASSWORD_VALIDATORS = [
    # Compared with the email (and its local part) and the name (accounts/services.py _PasswordOwner).
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- REST framework and OpenAPI ----------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.JWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["courseproject.api.rendering.ORJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["courseproject.api.parsing.LimitedJSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "courseproject.api.negotiation.UsualAcceptNegotiation",
    "DEFAULT_SCHEMA_CLASS": "courseproject.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "courseproject.api.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
    "UNAUTHENTICATED_TOKEN": None,
    # How many proxies (load balancers) sit in front of gunicorn. Throttling takes the client address
    # that many entries from the end of X-Forwarded-For; 0 ignores the header (a client could forge it).
    "NUM_PROXIES": env_int("NUM_PROXIES", 0),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Course registration API",
    "DESCRIPTION": "Browse courses, enroll and drop; instructors manage courses and rosters.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": ["student", "instructor", "admin"],
        "EnrollmentStatusEnum": [
            "enrolled",
            "dropped",
            "completed",
            "waitlisted",
            "waitlist_left",
            "waitlist_skipped",
            "waitlist_expired",
        ],
        "RosterStatusEnum": ["enrolled", "waitlisted"],
        "SkipReasonEnum": ["time_conflict", "credit_limit_exceeded", "registration_closed", "prerequisites_missing"],
        "HealthStatusEnum": ["ok", "degraded", "down"],
        "DependencyStatusEnum": ["ok", "unavailable"],
    },
}

# --- Logging -----------------------------------------------------------------------------------

LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
# "json" (production's default): one JSON object per line with the request id, in workers too; "plain" for people.
LOG_FORMAT = env_str("LOG_FORMAT", "plain")
# The per-request line (method, route, status, duration); locally gunicorn's access log shows it.
REQUEST_LOG = env_bool("REQUEST_LOG", False)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "courseproject.observability.logs.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "botocore": {"level": "WARNING"},
        "pynamodb": {"level": "WARNING"},
        "courseproject.requests": {"level": "INFO" if REQUEST_LOG else "WARNING"},
        # Every 4xx is an expected answer, and the request line already records it.
        "django.request": {"level": "ERROR"},
    },
}


def require(condition: bool, message: str) -> None:
    """Fail loudly at start-up on bad configuration."""
    if not condition:
        raise ImproperlyConfigured(message)
