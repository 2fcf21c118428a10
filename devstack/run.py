"""`make run`: the whole stack on this machine, stopped cleanly by Ctrl-C.

DynamoDB Local (data kept in .run/dynamodb) and redis-server on the ports the local settings point
at, tables and indexes, demo data, a Celery worker and beat, and gunicorn in the foreground.
Logs go to .run/logs/.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from urllib.parse import urlparse

import django
from django.conf import settings

from demo.dataset import DEMO_PASSWORD
from devstack.services import (
    ROOT,
    RUN_DIR,
    VENV_BIN,
    ManagedProcess,
    ServiceError,
    celery_beat,
    celery_worker,
    dynamodb_local,
    gunicorn_server,
    redis_server,
)

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


def _manage(*args: str) -> None:
    subprocess.run([str(VENV_BIN / "python"), "manage.py", *args], cwd=ROOT, check=True)


def main() -> int:
    started = time.monotonic()
    http_port = int(os.environ.get("PORT", "8000"))
    dynamodb_port, redis_port, broker_port = _local_settings()
    env = {"DJANGO_SETTINGS_MODULE": SETTINGS_MODULE, "PYTHONUNBUFFERED": "1"}
    services: list[ManagedProcess] = []

    def stop_all(*_: object) -> None:
        for service in reversed(services):
            print(f"stopping {service.name} ...", flush=True)
            service.stop()
        services.clear()

    # Background shells start us with SIGINT ignored; Ctrl-C must always stop the stack.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        print(
            f"starting DynamoDB Local on :{dynamodb_port}, the cache Redis on :{redis_port} "
            f"and the broker Redis on :{broker_port} ...",
            flush=True,
        )
        services.append(
            dynamodb_local(
                port=dynamodb_port,
                data_dir=RUN_DIR / "dynamodb",
                log_path=LOG_DIR / "dynamodb.log",
            ).start()
        )
        services.append(redis_server(port=redis_port, log_path=LOG_DIR / "redis.log").start())
        services.append(
            redis_server(
                port=broker_port,
                log_path=LOG_DIR / "redis-broker.log",
                eviction_policy="noeviction",
                data_dir=RUN_DIR / "broker",
            ).start()
        )

        _manage("create_indexes")
        _manage("seed_demo")

        services.append(celery_worker(hostname="worker", log_path=LOG_DIR / "celery-worker.log", env=env).start())
        services.append(celery_beat(log_path=LOG_DIR / "celery-beat.log", env=env).start())
        services.append(gunicorn_server(port=http_port, log_path=LOG_DIR / "gunicorn.log", env=env).start(timeout=60))

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
            f"  Logs         {LOG_DIR.relative_to(ROOT)}/ (gunicorn.log, celery-worker.log, celery-beat.log, "
            f"dynamodb.log, redis.log, redis-broker.log)\n"
            f"Press Ctrl-C to stop everything.\n",
            flush=True,
        )
        with (LOG_DIR / "gunicorn.log").open() as log:
            log.seek(0, os.SEEK_END)
            while all(service.is_running() for service in services):
                line = log.readline()
                if line:
                    sys.stdout.write(line)
                    sys.stdout.flush()
                else:
                    time.sleep(0.2)
        stopped = [service.name for service in services if not service.is_running()]
        print(f"{', '.join(stopped)} stopped unexpectedly; see {LOG_DIR.relative_to(ROOT)}/", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nCtrl-C received.", flush=True)
        return 0
    except (ServiceError, subprocess.CalledProcessError) as error:
        print(f"make run failed: {error}", file=sys.stderr)
        return 1
    finally:
        stop_all()


if __name__ == "__main__":
    sys.exit(main())
