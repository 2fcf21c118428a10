"""Settings for `make bench`: production settings, plus what only the benchmark may mount.

- ROOT_URLCONF adds the "before" baseline under /baseline/api/ and a bare Django endpoint at
  /bench/bare (benchmarks/urls.py); the product's own urls are included unchanged.
- The benchmarks app counts requests, DynamoDB calls and consumed capacity in every worker
  (benchmarks/instrumentation.py); production never installs it.
- Demo passwords are hashed with 1,000 PBKDF2 iterations instead of 1,000,000: the run signs in
  hundreds of simulated users, and 0.25 s of CPU per sign-in would be measured instead of the API.
- Sign-in throttling is lifted: every simulated user signs in from 127.0.0.1.

Everything else (DEBUG off, JSON logs, security middleware, Redis, Celery, timeouts) is production's,
configured from the environment the benchmark runner sets (benchmarks/stack.py).
"""

from courseproject.settings.production import *  # noqa: F403
from courseproject.settings.production import INSTALLED_APPS, MIDDLEWARE, env_float

ROOT_URLCONF = "benchmarks.urls"
INSTALLED_APPS = [*INSTALLED_APPS, "benchmarks.apps.BenchmarksConfig"]
MIDDLEWARE = ["benchmarks.instrumentation.RequestCounterMiddleware", *MIDDLEWARE]

PASSWORD_HASHERS = ["benchmarks.hashers.BenchPasswordHasher"]
LOGIN_THROTTLE_RATE = "1000000/min"
REGISTER_THROTTLE_RATE = "1000000/min"

# The baseline's inline email: an SMTP round trip that takes this long, then the message is dropped.
BASELINE_EMAIL_SECONDS = env_float("BENCH_BASELINE_EMAIL_SECONDS", 0.5)
