"""gunicorn configuration for `make run` and production alike; every choice can be overridden by env.

- Sync workers: measured on this 2-core machine, 2 sync workers served cached reads steadily, while
  gthread was faster on good runs but collapsed to ~40% on one run in three with a 2-3x worse p99.
- Workers default to 2 x cores + 1: requests spend much of their time waiting on DynamoDB and Redis.
- Sync workers answer one request per connection and close it (keepalive applies only if
  GUNICORN_WORKER_CLASS switches to gthread); on loopback and behind a load balancer that is cheap.
"""

import multiprocessing
import os

# Publishing a task from a request must give up fast when the broker hangs (the outbox takes it);
# read by the settings of the worker processes this master forks.
os.environ.setdefault("CELERY_BROKER_SOCKET_TIMEOUT_SECONDS", "0.5")

bind = os.environ.get("GUNICORN_BIND", f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Recycle workers now and then so a slow leak cannot grow without bound; jitter avoids all at once.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "2000"))
# The runtime control socket is not used; without this gunicorn 27 creates one under $HOME.
control_socket_disable = True
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
# %(M)s is the request time in milliseconds.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
