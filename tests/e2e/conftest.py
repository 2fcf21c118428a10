"""Real processes for end-to-end tests: gunicorn with several workers and a Celery worker, both on
the suite's DynamoDB Local and Redis."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.services import ROOT, ManagedProcess, free_port, http_ok
from tests.conftest import TEST_LOG_DIR

VENV_BIN = Path(sys.executable).parent
TEST_ENV = {"DJANGO_SETTINGS_MODULE": "courseproject.settings.test", "PYTHONUNBUFFERED": "1"}


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
def celery_worker() -> Iterator[ManagedProcess]:
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
        env=TEST_ENV,
    ).start(timeout=60)
    try:
        yield worker
    finally:
        worker.stop()
