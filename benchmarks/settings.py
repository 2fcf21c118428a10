"""Settings for `make bench`: production settings, plus what only the benchmark may mount.

- ROOT_URLCONF adds the "before" baseline under /baseline/api/ and a bare Django endpoint at
  /bench/bare (benchmarks/urls.py); the product's own urls are included unchanged.
- The benchmarks app counts requests, DynamoDB calls and consumed capacity in every worker
  (benchmarks/instrumentation.py); production never installs it.
- Demo passwords are hashed with 1,000 PBKDF2 iterations instead of 1,000,000: the run signs in
  hundreds of simulated users, and 0.25 s of CPU per sign-in would be measured instead of the API.
- seed_demo may run: it fills the benchmark's own throwaway tables.
- Email verification is not required (production requires it of self-registered students).
- The sign-in and registration limits per client address are lifted: every simulated user comes
  from 127.0.0.1. The limits per account and per user (writes) stay production's: a simulated
  student enrolls and drops a handful of times (the rush's at most BENCH_RUSH_ATTEMPTS enrolls and
  as many drops, within the burst of 15), and their cost is part of what is measured.

Everything else (DEBUG off, JSON logs, security middleware, Redis, Celery, timeouts, /metrics behind
a token, NUM_PROXIES and the JWT key set explicitly) is production's, configured from the environment
the benchmark runner sets (benchmarks/stack.py).
"""

from courseproject.settings.production import *  # noqa: F403
from courseproject.settings.production import INSTALLED_APPS, MIDDLEWARE, env_float

ROOT_URLCONF = "benchmarks.urls"
INSTALLED_APPS = [*INSTALLED_APPS, "benchmarks.apps.BenchmarksConfig"]
MIDDLEWARE = ["benchmarks.instrumentation.RequestCounterMiddleware", *MIDDLEWARE]

PASSWORD_HASHERS = ["benchmarks.hashers.BenchPasswordHasher"]
# The demo accounts' published password is harmless in tables that live as long as the run.
SEED_DEMO_ALLOWED = True
# Hundreds of simulated users sign in from one address, within the first minute.
LOGIN_ADDRESS_THROTTLE_RATE = "1000000/min"
REGISTER_THROTTLE_RATE = "1000000/min"
# The simulated students are seeded, not self-registered; make run's demo does not ask either.
EMAIL_VERIFICATION_REQUIRED = False

# The baseline's inline email: an SMTP round trip that takes this long, then the message is dropped.
BASELINE_EMAIL_SECONDS = env_float("BENCH_BASELINE_EMAIL_SECONDS", 0.5)
