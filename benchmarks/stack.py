"""The benchmark's own stack, on free ports so it can run beside `make run` and `make test`:
DynamoDB Local (in memory), a cache Redis, a broker Redis, a Celery worker and one gunicorn per
measurement, all with benchmarks.settings; and what prepares the data (create_indexes, seed_demo,
warm_cache). The services are devstack's, started and stopped by devstack's supervisor (without
restarts: a service dying in a run fails it).
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from benchmarks.variables import BenchVariables
from devstack.services import (
    ROOT,
    WAITLIST_QUEUE,
    ManagedProcess,
    celery_worker,
    dynamodb_local,
    free_port,
    manage,
    redis_server,
    web_server,
)
from devstack.supervisor import Supervisor, stop_on_signals


@dataclass
class BenchStack:
    output_dir: Path
    variables: BenchVariables
    dynamodb_port: int = field(default_factory=free_port)
    cache_port: int = field(default_factory=free_port)
    broker_port: int = field(default_factory=free_port)
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    jwt_signing_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    metrics_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    supervisor: Supervisor = field(default_factory=Supervisor)
    dynamodb: ManagedProcess | None = None
    workers: list[ManagedProcess] = field(default_factory=list)

    @property
    def log_dir(self) -> Path:
        return self.output_dir / "logs"

    def env(self, *, cache_enabled: bool = True) -> dict[str, str]:
        """The environment of every process of the stack: production settings plus the benchmark's."""
        return {
            "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
            "DJANGO_SECRET_KEY": self.secret_key,
            "JWT_SIGNING_KEY": self.jwt_signing_key,
            # /metrics behind a token, as production serves it (server_figures.py sends it).
            "METRICS_TOKEN": self.metrics_token,
            # Clients connect to gunicorn directly: X-Forwarded-For is not to be trusted.
            "NUM_PROXIES": "0",
            # Links in account emails (none are sent: the email backend drops them).
            "PASSWORD_RESET_URL": "http://127.0.0.1/reset-password",
            "EMAIL_VERIFICATION_URL": "http://127.0.0.1/verify-email",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DYNAMODB_ENDPOINT_URL": f"http://127.0.0.1:{self.dynamodb_port}",
            "DYNAMODB_TABLE_PREFIX": "bench-",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "REDIS_URL": f"redis://127.0.0.1:{self.cache_port}/0",
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{self.broker_port}/0",
            "CACHE_ENABLED": "true" if cache_enabled else "false",
            # Plain HTTP on loopback; no load balancer in front.
            "SECURE_SSL_REDIRECT": "false",
            # The request log would measure the log pipe; in production it goes to stdout and CloudWatch.
            "REQUEST_LOG": "false",
            "WEB_ACCESS_LOG": "false",
            "GUNICORN_ACCESS_LOG": "off",
            # No worker recycling in the middle of a measurement (warm workers, whole CPU accounting).
            "WEB_WORKER_LIFETIME_SECONDS": "0",
            "GUNICORN_MAX_REQUESTS": "0",
            "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "CELERY_BEAT_SCHEDULE_FILENAME": str(self.output_dir / "celerybeat-schedule"),
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": str(ROOT),
        }

    def start(self) -> None:
        print(
            f"starting DynamoDB Local :{self.dynamodb_port}, cache Redis :{self.cache_port}, "
            f"broker Redis :{self.broker_port} ...",
            flush=True,
        )
        self.dynamodb = self.start_service(
            dynamodb_local(port=self.dynamodb_port, data_dir=None, log_path=self.log_dir / "dynamodb.log")
        )
        self.start_service(redis_server(port=self.cache_port, log_path=self.log_dir / "redis.log", maxmemory="1gb"))
        self.start_service(
            redis_server(
                port=self.broker_port, log_path=self.log_dir / "redis-broker.log", eviction_policy="noeviction"
            )
        )
        self.manage("create_indexes")

    def start_service(self, service: ManagedProcess, *, timeout: float = 60.0) -> ManagedProcess:
        return self.supervisor.start(service, timeout=timeout, restart=False)

    def stop_service(self, service: ManagedProcess) -> None:
        self.supervisor.stop(service)

    def start_worker(self) -> None:
        """The workers as production runs them: one for emails and audit records, one for promotions."""
        env = self.env()
        workers = [
            celery_worker(hostname="bench", queues="celery", log_path=self.log_dir / "celery-worker.log", env=env),
            celery_worker(
                hostname="bench-waitlist",
                queues=WAITLIST_QUEUE,
                concurrency=1,
                log_path=self.log_dir / "celery-waitlist.log",
                env=env,
            ),
        ]
        self.workers += [self.start_service(worker) for worker in workers]

    def server(self, *, name: str, cache_enabled: bool, env: dict[str, str] | None = None) -> ManagedProcess:
        """A web server of its own for one measurement, as production runs it (courseproject/serve.py,
        BENCH_WEB_* variables applied, then `env`), logging to logs/web-<name>.log."""
        server_env = {**self.env(cache_enabled=cache_enabled), **self.variables.web_server_env(), **(env or {})}
        server = web_server(port=free_port(), log_path=self.log_dir / f"web-{name}.log", env=server_env)
        return self.start_service(server, timeout=90)

    def manage(self, *arguments: str, cache_enabled: bool = True) -> str:
        return manage(*arguments, env=self.env(cache_enabled=cache_enabled), capture_output=True)

    def redis(self) -> redis.Redis:
        return redis.Redis(port=self.cache_port, protocol=2, socket_timeout=5)

    def flush_cache(self) -> None:
        self.redis().flushdb()

    def seed(self, *, courses: int | None = None) -> dict[str, Any]:
        """seed_demo with the BENCH_* sizes (or `courses` courses); it writes only what is missing.
        Its semesters are fixed (20261, ...) and all open for registration now."""
        integer = self.variables.integer
        sizes = {
            "courses": courses if courses is not None else integer("BENCH_COURSES"),
            "students": integer("BENCH_STUDENTS"),
            "enrollments": integer("BENCH_ENROLLMENTS"),
            "instructors": integer("BENCH_INSTRUCTORS"),
            "semesters": integer("BENCH_SEMESTERS"),
            "departments": integer("BENCH_DEPARTMENTS"),
        }
        print(f"seeding {sizes} ...", flush=True)
        arguments = [f"--{name}={value}" for name, value in sizes.items() if name != "instructors" or value]
        # Fixed semester ids, so runs compare; every registration open, so enrolls meet the other rules.
        arguments += [f"--first-semester={self.variables.semester_ids()[0]}", "--all-open"]
        started = time.monotonic()
        output = self.manage("seed_demo", "--no-progress", *arguments)
        seconds = time.monotonic() - started
        print(f"  {output.strip().splitlines()[0]} (wall {seconds:.1f} s)", flush=True)
        return {**sizes, "seed_seconds": seconds}

    def dataset_env(self) -> dict[str, str]:
        """What the locustfiles need to know about the seeded dataset."""
        integer = self.variables.integer
        instructors = integer("BENCH_INSTRUCTORS") or max(5, integer("BENCH_COURSES") // 30)
        return {
            "BENCH_SEMESTER_IDS": ",".join(map(str, self.variables.semester_ids())),
            "BENCH_DEPARTMENTS": str(integer("BENCH_DEPARTMENTS")),
            "BENCH_STUDENTS": str(integer("BENCH_STUDENTS")),
            "BENCH_INSTRUCTORS": str(instructors),
        }

    def warm_cache(self) -> str:
        """What beat's courses.warm_hot_semesters keeps warm in production: each semester's first
        pages and the first page of each department, and the courses on them."""
        semesters = [f"--semester={semester}" for semester in self.variables.semester_ids()]
        return self.manage("warm_cache", "--no-progress", "--max-pages=2", *semesters).strip()


@contextlib.contextmanager
def running_stack(output_dir: Path, variables: BenchVariables) -> Iterator[BenchStack]:
    """The stack, started; every process it started is stopped on the way out, also on failure,
    Ctrl-C or SIGTERM."""
    stack = BenchStack(output_dir=output_dir, variables=variables)
    stop_on_signals(sigterm_exit_code=143)
    try:
        stack.start()
        yield stack
    finally:
        print("stopping the benchmark stack ...", flush=True)
        stack.supervisor.stop_all()


def base_url(server: ManagedProcess) -> str:
    return f"http://127.0.0.1:{server.port}"
