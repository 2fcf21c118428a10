"""The web server, as `make run`, the benchmark and the end-to-end tests start it: `python -m courseproject.serve`.

granian's WSGI server by default, gunicorn with WEB_SERVER=gunicorn (infra/gunicorn.conf.py). The
choice was measured, not assumed: `make bench` drives every candidate's bare and cached-list peaks
with wrk in one run (docs/benchmarks.md, "Latest figures"). On 2 cores, granian with one process per
core served the most requests of both kinds at the least CPU per request, with a p99 as low as the
best gunicorn configuration's.

- Workers: one process per core (WEB_WORKERS). Threads per process (WEB_THREADS, default 8): a
  request spends much of its time waiting on DynamoDB and Redis, and a thread waiting lets another
  use the core. Write admission lets two writes run and two wait per process by default
  (enrollments/admission.py), so eight threads leave four for reads. With four threads the reads
  had two, and in the registration rush a browse waited for one in granian's queue, hundreds of
  milliseconds in front of a view that answered in a few (docs/benchmarks.md, "Where a browse
  waits in the rush"). Everything a process shares between its threads is thread-safe: the botocore client
  and its connection pool (sized by DYNAMODB_MAX_POOL_CONNECTIONS), the Redis pools, the breakers
  and counters (locks), the token-check rider (a context variable).
- Backpressure (WEB_BACKPRESSURE, default 512 per process): how many connections a process serves at
  once. granian counts a kept-alive connection for as long as it stays open, not only while a
  request is in flight, so this must exceed the connections a load balancer (or a load test) keeps
  open; tied to the thread count, every connection past the eighth waited for one of the first to
  close, forever. The Rust front end queues requests for the WEB_THREADS Python threads.
- Keep-alive: on, so a load balancer reuses its connections. granian closes a connection that sends
  no request headers for 60 s (its longest header-read timeout), so a load balancer in front must
  close idle connections sooner (the ALB's idle timeout: 50 s), or it may reuse one being closed.
- There is no per-request timeout like gunicorn's worker timeout: every outbound call carries its
  own (DynamoDB, Redis, the broker), so no request waits on them without limit.
- Recycling: WEB_WORKER_LIFETIME_SECONDS restarts workers after that long (0: never); a worker
  over WEB_WORKER_MAX_RSS_MB is restarted gracefully.
- Access log: on locally (WEB_ACCESS_LOG, default on), off in production, where the application
  writes one JSON line per request.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from pathlib import Path

from granian.constants import HTTPModes, Interfaces
from granian.http import HTTP1Settings
from granian.log import LogLevels
from granian.server import Server

ROOT = Path(__file__).resolve().parent.parent
SERVERS = ("granian", "gunicorn")
ACCESS_LOG_FORMAT = '[%(time)s] %(addr)s "%(method)s %(path)s %(protocol)s" %(status)d %(dt_ms).1fms'


def _int_env(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name, "")
    try:
        value = int(raw) if raw.strip() else default
    except ValueError:
        sys.exit(f"{name} must be a whole number, not {raw!r}")
    if value < minimum:
        sys.exit(f"{name} must be at least {minimum}, not {value}")
    return value


def _flag_env(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    sys.exit(f"{name} must be true or false, not {raw!r}")


def web_server() -> str:
    server = os.environ.get("WEB_SERVER", "granian").strip().lower() or "granian"
    if server not in SERVERS:
        sys.exit(f"WEB_SERVER must be one of {', '.join(SERVERS)}, not {server!r}")
    return server


def serve_granian() -> None:
    threads = _int_env("WEB_THREADS", 8, minimum=1)
    workers = _int_env("WEB_WORKERS", multiprocessing.cpu_count(), minimum=1)
    lifetime = _int_env("WEB_WORKER_LIFETIME_SECONDS", 0)
    max_rss = _int_env("WEB_WORKER_MAX_RSS_MB", 0)
    access_log = _flag_env("WEB_ACCESS_LOG", True)
    server = Server(
        "courseproject.wsgi:application",
        address=os.environ.get("HOST", "127.0.0.1"),
        port=_int_env("PORT", 8000, minimum=1),
        interface=Interfaces.WSGI,
        workers=workers,
        blocking_threads=threads,
        backpressure=_int_env("WEB_BACKPRESSURE", 512, minimum=1),
        # HTTP/1.1 only: the load balancer speaks it to targets, and HTTP/2 negotiation costs a little.
        http=HTTPModes.http1,
        http1_settings=HTTP1Settings(keep_alive=True, header_read_timeout=60_000),
        websockets=False,
        log_level=LogLevels(os.environ.get("WEB_LOG_LEVEL", "info")),
        log_access=access_log,
        log_access_format=ACCESS_LOG_FORMAT,
        respawn_failed_workers=True,
        workers_lifetime=lifetime or None,
        workers_max_rss=max_rss or None,
        # On deploy, requests in flight get this long to finish.
        workers_kill_timeout=_int_env("WEB_GRACEFUL_TIMEOUT_SECONDS", 30, minimum=1),
    )
    server.serve()


def serve_gunicorn() -> None:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    argv = [str(gunicorn), "-c", str(ROOT / "infra" / "gunicorn.conf.py"), "courseproject.wsgi"]
    os.execv(argv[0], argv)


def main() -> None:
    # Publishing a task from a request must give up fast when the broker hangs (the outbox takes
    # it); read by the settings of the web processes this one starts.
    os.environ.setdefault("CELERY_BROKER_SOCKET_TIMEOUT_SECONDS", "0.5")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "courseproject.settings.local")
    if web_server() == "gunicorn":
        serve_gunicorn()
    else:
        serve_granian()


if __name__ == "__main__":
    main()
