"""Real processes for end-to-end tests: the web server with several worker processes and a Celery worker, both on
the suite's DynamoDB Local and Redis."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings

from courseproject.celery import app
from devstack import services as devstack
from tests.conftest import TEST_LOG_DIR
from tests.e2e.proxy import PausableProxy

EMAIL_DIR = TEST_LOG_DIR / "emails"
TEST_ENV = {
    "DJANGO_SETTINGS_MODULE": "courseproject.settings.test",
    "PYTHONUNBUFFERED": "1",
    # Real publishing to the broker and a real worker, not tasks run inline.
    "CELERY_TASK_ALWAYS_EAGER": "false",
    # Production's log lines, so a test can read back the request id on the worker's.
    "LOG_FORMAT": "json",
    "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
    "EMAIL_FILE_PATH": str(EMAIL_DIR),
    # A killed worker's unacknowledged tasks come back within seconds, not an hour.
    "CELERY_VISIBILITY_TIMEOUT_SECONDS": "4",
    "CELERY_UNACKED_RESTORE_INTERVAL_SECONDS": "1",
    # An email claim a killed worker left behind is taken over after the task time limit plus 30 s
    # (courseproject/background/ledger.py): 45 s here rather than two minutes.
    "CELERY_TASK_SOFT_TIME_LIMIT_SECONDS": "10",
    "CELERY_TASK_TIME_LIMIT_SECONDS": "15",
}


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    port = devstack.free_port()
    server = devstack.web_server(
        port=port,
        log_path=TEST_LOG_DIR / "web.log",
        # The product's configuration on two cores: 8 threads a process, 2 of them running writes and 2
        # more waiting for a slot at most (a fifth write at once is refused; the races send it again).
        env={**TEST_ENV, "WEB_WORKERS": "2", "WEB_THREADS": "8", "WEB_WRITE_SLOTS": "2"},
    ).start(timeout=60)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="session")
def worker_dynamodb_proxy(local_services) -> Iterator[PausableProxy]:
    """The worker reaches DynamoDB through this relay, so a test can hold its requests mid-flight."""
    proxy = PausableProxy(upstream_port=settings.TEST_DYNAMODB_PORT)
    yield proxy
    proxy.close()


@pytest.fixture(scope="session")
def celery_worker(worker_dynamodb_proxy: PausableProxy) -> Iterator[devstack.ManagedProcess]:
    def answers_ping() -> bool:
        return bool(app.control.ping(timeout=0.5))

    worker = devstack.celery_worker(
        hostname="e2e",
        log_path=TEST_LOG_DIR / "celery-worker.log",
        # It does not yield to the refused writes that the suite's races and admission tests cause,
        # so their tasks run when those tests expect them; tests/e2e/test_worker_yielding.py runs one that does.
        env={**TEST_ENV, "TEST_DYNAMODB_PORT": str(worker_dynamodb_proxy.port), "WORKER_YIELD_MAX_SECONDS": "0"},
        ready=answers_ping,
    ).start(timeout=60)
    try:
        yield worker
    finally:
        worker.stop()
