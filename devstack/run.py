"""`make run`: the whole stack on this machine, stopped cleanly by Ctrl-C.

DynamoDB Local (data kept in .run/dynamodb) and redis-server on the ports the local settings point
at, tables and indexes, demo data, a Celery worker and beat, and the web server (courseproject/serve.py),
whose access log streams to the terminal. A service that dies is restarted after a back-off
(devstack.supervisor), and the terminal says so, so stopping one to try the fallbacks does not end the
stack. Logs go to .run/logs/.
"""

from __future__ import annotations

import os
import sys
import time
from urllib.parse import urlparse

import django
from django.conf import settings

from demo.logins import DEMO_PASSWORD
from devstack.services import (
    GENERAL_QUEUES,
    ROOT,
    RUN_DIR,
    WAITLIST_QUEUE,
    ServiceError,
    celery_beat,
    celery_worker,
    dynamodb_local,
    manage,
    redis_server,
    web_server,
)
from devstack.supervisor import Supervisor, stop_on_signals

SETTINGS_MODULE = os.environ.get("DJANGO_SETTINGS_MODULE", "courseproject.settings.local")
LOG_DIR = RUN_DIR / "logs"


def _local_settings() -> tuple[int, int, int]:
    """The DynamoDB, cache and broker ports the settings point at, so the two can never disagree."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)
    django.setup()
    dynamodb_port = urlparse(settings.DYNAMODB_ENDPOINT_URL or "").port
    redis_port = urlparse(settings.REDIS_URL).port
    broker_port = urlparse(settings.CELERY_BROKER_URL).port
    if not dynamodb_port or not redis_port or not broker_port:
        raise ServiceError(
            "make run needs DYNAMODB_ENDPOINT_URL, REDIS_URL and CELERY_BROKER_URL on 127.0.0.1 with explicit ports."
        )
    return dynamodb_port, redis_port, broker_port


def announce(message: str) -> None:
    print(f"make run: {message}", flush=True)


def follow_web_log(supervisor: Supervisor) -> None:
    """Streams the web server's log to the terminal and restarts dead services, until Ctrl-C."""
    with (LOG_DIR / "web.log").open() as log:
        log.seek(0, os.SEEK_END)
        while True:
            supervisor.check()
            line = log.readline()
            if line:
                sys.stdout.write(line)
                sys.stdout.flush()
            else:
                time.sleep(0.2)


def main() -> int:
    started = time.monotonic()
    http_port = int(os.environ.get("PORT", "8000"))
    dynamodb_port, redis_port, broker_port = _local_settings()
    env = {"DJANGO_SETTINGS_MODULE": SETTINGS_MODULE, "PYTHONUNBUFFERED": "1"}
    supervisor = Supervisor(announce=announce)
    stop_on_signals(sigterm_exit_code=0)
    try:
        print(
            f"starting DynamoDB Local on :{dynamodb_port}, the cache Redis on :{redis_port} "
            f"and the broker Redis on :{broker_port} ...",
            flush=True,
        )
        supervisor.start(
            dynamodb_local(port=dynamodb_port, data_dir=RUN_DIR / "dynamodb", log_path=LOG_DIR / "dynamodb.log")
        )
        supervisor.start(redis_server(port=redis_port, log_path=LOG_DIR / "redis.log"))
        supervisor.start(
            redis_server(
                port=broker_port,
                log_path=LOG_DIR / "redis-broker.log",
                eviction_policy="noeviction",
                data_dir=RUN_DIR / "broker",
            )
        )

        # Local tables are the models' alone: an index a model dropped (UsersByEmail) goes too.
        manage("create_indexes", "--prune")
        manage("seed_demo")
        manage("backfill_semesters")

        supervisor.start(
            celery_worker(hostname="worker", queues=GENERAL_QUEUES, log_path=LOG_DIR / "celery-worker.log", env=env)
        )
        # Promotions from waitlists on a worker of their own (settings.WAITLIST_QUEUE).
        supervisor.start(
            celery_worker(
                hostname="waitlist",
                queues=WAITLIST_QUEUE,
                concurrency=1,
                log_path=LOG_DIR / "celery-waitlist.log",
                env=env,
            )
        )
        supervisor.start(celery_beat(log_path=LOG_DIR / "celery-beat.log", env=env))
        supervisor.start(web_server(port=http_port, log_path=LOG_DIR / "web.log", env=env))

        base = f"http://127.0.0.1:{http_port}"
        print(
            f"\nReady in {time.monotonic() - started:.1f} s.\n"
            f"  API          {base}/api/\n"
            f"  Health       {base}/api/health\n"
            f"  Swagger UI   {base}/api/docs/\n"
            f"  Admin        {base}/admin/ (admin@demo.edu)\n"
            f"  OpenAPI      {base}/api/schema/\n"
            f"  Metrics      {base}/metrics\n"
            f"  Sign in as   admin@demo.edu, instructor1@demo.edu or student1@demo.edu "
            f"(password {DEMO_PASSWORD!r})\n"
            f"  Emails       {RUN_DIR.relative_to(ROOT)}/emails/\n"
            f"  Logs         {LOG_DIR.relative_to(ROOT)}/ (web.log, celery-worker.log, celery-waitlist.log, "
            f"celery-beat.log, "
            f"dynamodb.log, redis.log, redis-broker.log)\n"
            f"A service that stops is restarted. Press Ctrl-C to stop everything.\n",
            flush=True,
        )
        follow_web_log(supervisor)
    except KeyboardInterrupt:
        print("\nCtrl-C received.", flush=True)
        return 0
    except ServiceError as error:
        print(f"make run failed: {error}", file=sys.stderr)
        return 1
    finally:
        supervisor.stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
