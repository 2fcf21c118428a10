"""Real processes for end-to-end tests: gunicorn with several workers and a Celery worker, both on
the suite's DynamoDB Local and Redis."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.services import ROOT, ManagedProcess, free_port, http_ok
from tests.conftest import TEST_LOG_DIR
from tests.e2e.proxy import PausableProxy

VENV_BIN = Path(sys.executable).parent
EMAIL_DIR = TEST_LOG_DIR / "emails"
TEST_ENV = {
    "DJANGO_SETTINGS_MODULE": "courseproject.settings.test",
    "PYTHONUNBUFFERED": "1",
    # Real publishing to the broker and a real worker, not tasks run inline.
    "CELERY_TASK_ALWAYS_EAGER": "false",
    "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
    "EMAIL_FILE_PATH": str(EMAIL_DIR),
    # A killed worker's unacknowledged tasks come back within seconds, not an hour.
    "CELERY_VISIBILITY_TIMEOUT_SECONDS": "4",
    "CELERY_UNACKED_RESTORE_INTERVAL_SECONDS": "1",
}


@pytest.fixture(scope="session")
def gunicorn_url() -> Iterator[str]:
    port = free_port()
    server = ManagedProcess(
        name="gunicorn",
        argv=[str(VENV_BIN / "gunicorn"), "-c", str(ROOT / "infra" / "gunicorn.conf.py"), "courseproject.wsgi"],
        port=port,
        ready=lambda: http_ok(f"http://127.0.0.1:{port}/api/health"),
        log_path=TEST_LOG_DIR / "gunicorn.log",
        env={**TEST_ENV, "PORT": str(port), "GUNICORN_WORKERS": "4"},
    ).start(timeout=60)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="session")
def worker_dynamodb_proxy(local_services) -> Iterator[PausableProxy]:
    """The worker reaches DynamoDB through this relay, so a test can hold its requests mid-flight."""
    from django.conf import settings

    proxy = PausableProxy(upstream_port=settings.TEST_DYNAMODB_PORT)
    yield proxy
    proxy.close()


@pytest.fixture(scope="session")
def celery_worker(worker_dynamodb_proxy: PausableProxy) -> Iterator[ManagedProcess]:
    from courseproject.celery import app

    def answers_ping() -> bool:
        return bool(app.control.ping(timeout=0.5))

    worker = ManagedProcess(
        name="Celery worker",
        argv=[
            str(VENV_BIN / "celery"),
            "-A",
            "courseproject",
            "worker",
            "--loglevel",
            "INFO",
            "--concurrency",
            "2",
            "--hostname",
            "e2e@%h",
            "--without-gossip",
            "--without-mingle",
        ],
        ready=answers_ping,
        log_path=TEST_LOG_DIR / "celery-worker.log",
        env={**TEST_ENV, "TEST_DYNAMODB_PORT": str(worker_dynamodb_proxy.port)},
    ).start(timeout=60)
    try:
        yield worker
    finally:
        worker.stop()
