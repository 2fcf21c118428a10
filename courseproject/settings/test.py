"""Settings for the test suite: its own DynamoDB Local and Redis, started by tests/conftest.py."""

from .base import *  # noqa: F403
from .base import env_bool, env_int, env_str

TEST_DYNAMODB_PORT = env_int("TEST_DYNAMODB_PORT", 8611, minimum=1)
TEST_REDIS_PORT = env_int("TEST_REDIS_PORT", 6392, minimum=1)
TEST_BROKER_PORT = env_int("TEST_BROKER_PORT", 6394, minimum=1)

DYNAMODB_ENDPOINT_URL = f"http://127.0.0.1:{TEST_DYNAMODB_PORT}"
# A test that serves data of its own from subprocesses (tests/test_demo_examples.py) gives them other tables.
DYNAMODB_TABLE_PREFIX = env_str("TEST_DYNAMODB_TABLE_PREFIX", "test-")
AWS_ACCESS_KEY_ID = "test"
AWS_SECRET_ACCESS_KEY = "test"

REDIS_URL = f"redis://127.0.0.1:{TEST_REDIS_PORT}/0"
CACHES["default"]["LOCATION"] = REDIS_URL
CELERY_BROKER_URL = f"redis://127.0.0.1:{TEST_BROKER_PORT}/0"
# In-process tests run tasks inline; the end-to-end tests give gunicorn and a real worker "false".
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", True)
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")

# Hashing strength is not under test; PBKDF2 would dominate the suite's run time.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Throttling is exercised by its own tests with low rates (tests/test_throttling.py); the others sign
# in from one address and fire writes in parallel, also across gunicorn processes (tests/e2e/*races*).
LOGIN_ADDRESS_THROTTLE_RATE = "100000/min"
LOGIN_FAILURE_THROTTLE_RATE = "100000/min"
REGISTER_THROTTLE_RATE = "100000/min"
PASSWORD_RESET_THROTTLE_RATE = "100000/min"
WRITE_THROTTLE_RATE = "100000/min"
WRITE_THROTTLE_BURST = 100000
STAFF_WRITE_THROTTLE_RATE = "100000/min"
STAFF_WRITE_THROTTLE_BURST = 100000
# In-process races run dozens of threads in one process, which stands for many processes' worth of
# them: no write cap there. The end-to-end web server runs the product's default
# (tests/e2e/conftest.py), and tests/test_write_admission.py sets its own.
WEB_WRITE_SLOTS = env_int("WEB_WRITE_SLOTS", 0)

# DynamoDB Local's indexes are updated with the table: there is no lag to wait out.
CACHE_GSI_SETTLE_SECONDS = 0

WHITENOISE_USE_FINDERS = True
# No collectstatic here, so no STATIC_ROOT for WhiteNoise to look for (it warns when it is missing).
STATIC_ROOT = None
WHITENOISE_AUTOREFRESH = True
