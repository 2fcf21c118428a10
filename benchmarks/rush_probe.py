"""A browser outside locust during the rush: one cached course list every INTERVAL_SECONDS over one
kept-alive connection, from a process of its own at a raised CPU priority where the system allows it.

Locust times its 500 users from one process that shares the two cores with the server; when the
machine is saturated, a user's greenlet waits for locust's own loop as well as for the server, and
that wait lands in the user's latency. The probe's latencies are the server's (and granian's queue
in front of it) without most of it: the rush report shows both, and the target is still read from
locust's.

    BENCH_PROBE_TOKEN=... python -m benchmarks.rush_probe URL SEMESTER_ID LOG_PATH

writes one JSON line per request to LOG_PATH in locustfiles/rush.py's format (start time, name,
milliseconds, status), plus the niceness it ran at, until it is stopped. The token comes in the
environment, not on the command line, which anyone on the machine can read.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

from devstack.services import VENV_BIN, ManagedProcess

PROBE = "GET /courses?semester_id (probe)"
INTERVAL_SECONDS = 0.1
# Above locust, the server, DynamoDB Local and the workers (all at 0), where the system allows it.
PRIORITY_RAISE = 10
TIMEOUT_SECONDS = 30
TOKEN_VARIABLE = "BENCH_PROBE_TOKEN"


def is_probe(request: dict[str, Any]) -> bool:
    return request["name"] == PROBE


def probe_process(*, url: str, token: str, semester_id: int, log_path: Path, output_path: Path) -> ManagedProcess:
    """The probe as a service of the stack: started and stopped with it (stack.start_service), so an
    interrupted run stops it too. Its own output (a traceback, if any) goes to `output_path`."""
    return ManagedProcess(
        name="rush probe",
        argv=[str(VENV_BIN / "python"), "-m", "benchmarks.rush_probe", url, str(semester_id), str(log_path)],
        log_path=output_path,
        env={TOKEN_VARIABLE: token},
    )


def raise_priority() -> int:
    """The niceness the probe runs at: PRIORITY_RAISE below the default, or the default when the
    process may not raise its own priority (no root, no CAP_SYS_NICE)."""
    with contextlib.suppress(PermissionError):
        os.nice(-PRIORITY_RAISE)
    return os.getpriority(os.PRIO_PROCESS, 0)


def probe(
    url: str, token: str, semester_id: int, log_path: Path, *, niceness: int, requests: int | None = None
) -> None:
    """GET the semester's first course list page every INTERVAL_SECONDS (`requests` times, or until
    terminated); each line is written and flushed as it is measured, with the `niceness` it ran at."""
    address = urllib.parse.urlsplit(url)
    path = f"/api/courses?semester_id={semester_id}"
    headers = {"Authorization": f"Bearer {token}"}
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=TIMEOUT_SECONDS)
    sent = 0
    with log_path.open("a", buffering=1) as log:
        while requests is None or sent < requests:
            at, started = time.time(), time.perf_counter()
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                status = 0  # a connection error, as locust's rows record one
                connection.close()
            elapsed = time.perf_counter() - started
            record = {"at": at, "name": PROBE, "ms": elapsed * 1000, "status": status, "niceness": niceness}
            log.write(json.dumps(record) + "\n")
            sent += 1
            time.sleep(max(0.0, INTERVAL_SECONDS - elapsed))
    connection.close()


if __name__ == "__main__":
    # Only the probe's own process: the runner (and a test calling probe()) keeps its priority.
    probe(sys.argv[1], os.environ[TOKEN_VARIABLE], int(sys.argv[2]), Path(sys.argv[3]), niceness=raise_priority())
