"""A group of services started in order and stopped in reverse order, each restarted when it dies.

`make run` (devstack.run) checks its group a few times a second, so a person can stop the cache
Redis or kill the Celery worker to watch the fallbacks, and see the service come back. A restart
waits a back-off that doubles from one second to thirty, and starts again from one second once the
service has stayed up for a minute, so a service that cannot start does not spin. The benchmark's
stack (benchmarks.stack) uses the same group without restarts: a service dying there fails the run.
"""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from devstack.services import ROOT, ManagedProcess, ServiceError


@dataclass(frozen=True)
class Backoff:
    first_seconds: float = 1.0
    longest_seconds: float = 30.0
    # A service that stayed up this long is healthy again: its next restart waits first_seconds.
    stable_after_seconds: float = 60.0


@dataclass(frozen=True)
class ServiceExited:
    """A supervised service found dead, and when it will be started again."""

    name: str
    exit_code: int | None
    restart_in_seconds: float
    log_path: Path

    def message(self) -> str:
        exit_code = "unknown" if self.exit_code is None else str(self.exit_code)
        if self.exit_code is not None and self.exit_code < 0:
            exit_code += f" ({signal.Signals(-self.exit_code).name})"
        restart_at = datetime.now() + timedelta(seconds=self.restart_in_seconds)
        return (
            f"{self.name} exited with code {exit_code}; restarting it in {self.restart_in_seconds:g} s "
            f"(at {restart_at:%H:%M:%S}). Its log: {display_path(self.log_path)}"
        )


@dataclass
class _Supervised:
    service: ManagedProcess
    restart: bool
    ready_timeout: float
    started_at: float
    next_delay: float
    restart_at: float | None = None
    restarts: int = 0


def display_path(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


class Supervisor:
    def __init__(
        self,
        *,
        backoff: Backoff | None = None,
        announce: Callable[[str], None] | None = None,
    ) -> None:
        self.backoff = backoff or Backoff()
        self.announce = announce or (lambda message: None)
        self._supervised: list[_Supervised] = []

    def start(self, service: ManagedProcess, *, timeout: float = 60.0, restart: bool = True) -> ManagedProcess:
        """Starts `service` and waits until it is ready; it joins the group first, so that an
        interruption while it starts still stops it."""
        self._supervised.append(
            _Supervised(
                service=service,
                restart=restart,
                ready_timeout=timeout,
                started_at=time.monotonic(),
                next_delay=self.backoff.first_seconds,
            )
        )
        return service.start(timeout=timeout)

    def stop(self, service: ManagedProcess) -> None:
        service.stop()
        self._supervised = [entry for entry in self._supervised if entry.service is not service]

    def stop_all(self) -> None:
        for entry in reversed(self._supervised):
            self.announce(f"stopping {entry.service.name} ...")
            entry.service.stop()
        self._supervised.clear()

    def restarts(self, service: ManagedProcess) -> int:
        return next(entry.restarts for entry in self._supervised if entry.service is service)

    def check(self) -> list[ServiceExited]:
        """Notices the services that died since the last check and restarts those whose back-off has
        passed. Returns the deaths noticed in this call."""
        exits = []
        for entry in self._supervised:
            if not entry.restart or entry.service.is_running():
                continue
            now = time.monotonic()
            if entry.restart_at is None:
                exits.append(self._schedule_restart(entry, now))
            elif now >= entry.restart_at:
                self._restart(entry)
        return exits

    def _schedule_restart(self, entry: _Supervised, now: float) -> ServiceExited:
        # Whatever its process group still holds (a Celery worker's pool, gunicorn's workers) must go
        # before a new one binds the same port.
        entry.service.stop()
        if now - entry.started_at >= self.backoff.stable_after_seconds:
            entry.next_delay = self.backoff.first_seconds
        delay = entry.next_delay
        entry.next_delay = min(delay * 2, self.backoff.longest_seconds)
        entry.restart_at = now + delay
        process = entry.service.process
        exited = ServiceExited(
            name=entry.service.name,
            exit_code=process.returncode if process is not None else None,
            restart_in_seconds=delay,
            log_path=entry.service.log_path,
        )
        self.announce(exited.message())
        return exited

    def _restart(self, entry: _Supervised) -> None:
        entry.restarts += 1
        entry.started_at = time.monotonic()
        entry.restart_at = None
        try:
            entry.service.start(timeout=entry.ready_timeout)
        except ServiceError as error:
            # Dead again: the next check schedules another attempt with a longer back-off.
            first_line = str(error).splitlines()[0]
            self.announce(f"{entry.service.name} did not come back: {first_line}")
            return
        self.announce(f"{entry.service.name} restarted (pid {entry.service.process.pid}).")


def stop_on_signals(*, sigterm_exit_code: int) -> None:
    """Ctrl-C raises KeyboardInterrupt and SIGTERM exits, so the caller's `finally` stops its services.
    Background shells start us with SIGINT ignored; Ctrl-C and SIGTERM must always stop the stack."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(sigterm_exit_code))
