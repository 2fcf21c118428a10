"""devstack.supervisor: a service that dies is started again after a back-off that grows, and starts
again from the shortest once the service has stayed up; stopping the group stops everything.

Short-lived `python -c` processes stand in for services. No timing is asserted: the delays checked
are the ones the supervisor chose, read from what it reports.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from devstack.services import ManagedProcess
from devstack.supervisor import Backoff, ServiceExited, Supervisor

# Lives `lifetimes[n]` seconds on its n-th start (the last one from then on), counting starts in a file.
DUMMY = """
import sys, time
from pathlib import Path
starts = Path(sys.argv[1])
count = len(starts.read_text()) if starts.exists() else 0
starts.write_text("x" * (count + 1))
lifetimes = [float(value) for value in sys.argv[2:]]
time.sleep(lifetimes[min(count, len(lifetimes) - 1)])
"""


def dummy_service(tmp_path: Path, *lifetimes: float) -> ManagedProcess:
    return ManagedProcess(
        name="dummy",
        argv=[sys.executable, "-c", DUMMY, str(tmp_path / "starts"), *map(str, lifetimes)],
        log_path=tmp_path / "dummy.log",
    )


def exits_until(supervisor: Supervisor, count: int, *, deadline_seconds: float = 30.0) -> list[ServiceExited]:
    exits: list[ServiceExited] = []
    deadline = time.monotonic() + deadline_seconds
    while len(exits) < count and time.monotonic() < deadline:
        exits += supervisor.check()
        time.sleep(0.02)
    return exits


def test_a_dead_service_is_restarted_after_a_back_off_that_doubles_up_to_the_longest(tmp_path):
    messages: list[str] = []
    supervisor = Supervisor(
        backoff=Backoff(first_seconds=0.1, longest_seconds=0.4, stable_after_seconds=60), announce=messages.append
    )
    service = supervisor.start(dummy_service(tmp_path, 0.1))
    try:
        exits = exits_until(supervisor, 5)
        restarts = supervisor.restarts(service)
    finally:
        supervisor.stop_all()

    assert [exited.restart_in_seconds for exited in exits] == [0.1, 0.2, 0.4, 0.4, 0.4]
    assert restarts == 4  # the fifth death is noticed, its restart not due yet
    assert exits[0].exit_code == 0
    assert "dummy exited with code 0; restarting it in 0.1 s" in messages[0]
    assert str(tmp_path / "dummy.log") in messages[0]
    assert any(message.startswith("dummy restarted (pid ") for message in messages)


def test_a_service_that_stayed_up_is_restarted_after_the_shortest_back_off_again(tmp_path):
    supervisor = Supervisor(backoff=Backoff(first_seconds=0.1, longest_seconds=10, stable_after_seconds=1.0))
    # Three quick deaths, then a run longer than stable_after_seconds, then quick deaths again.
    supervisor.start(dummy_service(tmp_path, 0.05, 0.05, 0.05, 2.5, 0.05))
    try:
        exits = exits_until(supervisor, 5)
    finally:
        supervisor.stop_all()

    assert [exited.restart_in_seconds for exited in exits] == [0.1, 0.2, 0.4, 0.1, 0.2]


def test_a_killed_service_reports_the_signal(tmp_path):
    messages: list[str] = []
    supervisor = Supervisor(backoff=Backoff(first_seconds=0.1), announce=messages.append)
    service = supervisor.start(dummy_service(tmp_path, 60))
    try:
        service.kill()
        exits = exits_until(supervisor, 1)
        assert exits[0].exit_code == -9
        assert "exited with code -9 (SIGKILL)" in messages[0]
        # Restarted, and running again.
        deadline = time.monotonic() + 30
        while supervisor.restarts(service) == 0 and time.monotonic() < deadline:
            supervisor.check()
            time.sleep(0.02)
        assert service.is_running()
    finally:
        supervisor.stop_all()
    assert not service.is_running()


def test_a_service_started_without_restart_stays_dead_and_stop_all_stops_the_others(tmp_path):
    supervisor = Supervisor(backoff=Backoff(first_seconds=0.01))
    short_lived = supervisor.start(dummy_service(tmp_path / "short", 0.01), restart=False)
    long_lived = supervisor.start(dummy_service(tmp_path / "long", 60))
    short_lived.process.wait(timeout=30)
    assert supervisor.check() == []
    time.sleep(0.1)
    supervisor.check()
    assert not short_lived.is_running()
    assert long_lived.is_running()

    supervisor.stop_all()

    assert not long_lived.is_running()
    assert long_lived.process.returncode == -15  # SIGTERM
