"""gunicorn configuration, used with WEB_SERVER=gunicorn (courseproject/serve.py); every choice can be
overridden by env. The default web server is granian: `make bench` measures both (benchmarks/servers.py).

- Worker class sync: sync workers serve one request per process, which is simple and steady, but on
  2 cores they lose to threads (gthread, granian) on peak and p99; see docs/benchmarks.md.
- Workers 2 x cores + 1: a request spends much of its time waiting on DynamoDB and Redis, so more
  processes than cores keep the cores busy; each costs ~60 MB.
- Keep-alive: sync workers answer one request per connection and close it, so `keepalive` only
  matters with GUNICORN_WORKER_CLASS=gthread; then keep it below the load balancer's idle timeout
  (ALB: 60 s) so gunicorn never closes a connection the ALB is about to reuse.
- Timeouts: a worker silent for 30 s is killed and replaced (no request here should take a
  second); on deploy, workers get 30 s to finish what they are serving.
- Recycling: workers restart after ~20,000 requests (jittered), bounding any slow leak.
- Access log: locally to stdout with the request time (%(M)s ms); in production "off", because the
  application writes one JSON line per request with its request id, route, status and duration.
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
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "2000"))
# The runtime control socket is not used; without this gunicorn 27 creates one under $HOME.
control_socket_disable = True
_access_log = os.environ.get("GUNICORN_ACCESS_LOG", "-")
accesslog = None if _access_log == "off" else _access_log
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
