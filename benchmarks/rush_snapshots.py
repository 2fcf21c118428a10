"""The rush's server snapshots: the server's counters read at the opening and at the start of the
steady state while locust runs, turned into each phase's own server figures (its cache hit rate
above all). benchmarks/rush.py takes them; OPENING_SECONDS lives here so both share it without an
import cycle.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from redis.exceptions import RedisError

from benchmarks.server_figures import Snapshot, cpu_by_process, server_figures, snapshot
from benchmarks.stack import BenchStack
from devstack.services import ManagedProcess

# The rush's first seconds, reported apart from the steady state.
OPENING_SECONDS = 10
# What each phase keeps of server_figures(): its CPU share would be skewed by the snapshots' flush wait.
PHASE_SERVER_FIGURES = (
    "server_requests",
    "cache_hit_rate",
    "cache_lookups",
    "cache_hit_rate_by_family",
    "read_capacity_per_request",
    "server_cpu_ms_per_request",
)


class PhaseSnapshots:
    """The server's counters at the opening and at the start of the steady state, taken by a thread
    of their own while locust runs, so that each phase gets its own cache hit rate. A snapshot sleeps
    FLUSH_WAIT_SECONDS first (the workers' counts reach Redis), so it counts every lookup made before
    its moment, and some made in the seconds after it (more while /metrics queues behind the rush)."""

    def __init__(self, stack: BenchStack, server: ManagedProcess, *, opens_at: float, run_seconds: float) -> None:
        self.opens_at = opens_at
        self.taken: dict[str, Snapshot] = {}
        # When each snapshot had been read, in seconds after the opening: where its window really starts.
        self.read_after_opening: dict[str, float] = {}
        self._stopped = threading.Event()
        self.starts = {"opening": opens_at}
        if run_seconds > OPENING_SECONDS:  # else the whole run after the opening is its opening
            self.starts["steady"] = opens_at + OPENING_SECONDS
        self._thread = threading.Thread(
            target=self._take, args=(stack, server, dict(self.starts)), name="rush-phase-snapshots", daemon=True
        )
        self._thread.start()

    def _take(self, stack: BenchStack, server: ManagedProcess, starts: dict[str, float]) -> None:
        for phase, starts_at in starts.items():
            if self._stopped.wait(timeout=max(0.0, starts_at - time.time())):
                return  # locust ended (or failed) before this phase began
            try:
                self.taken[phase] = snapshot(stack, server, cache_enabled=True)
            except (OSError, RedisError) as error:
                print(f"rush: no server counters at the start of the {phase} phase ({error})", flush=True)
                return
            self.read_after_opening[phase] = round(time.time() - self.opens_at, 1)

    def stop(self) -> None:
        """Called once locust has ended: a snapshot under way is finished, none is started."""
        self._stopped.set()
        # A snapshot waits on /metrics for at most a minute (server_figures.cache_lookups).
        self._thread.join(timeout=120)

    def server_windows(self, after: Snapshot) -> dict[str, dict[str, Any]]:
        return phase_server_windows(
            list(self.starts), dict(self.taken), after=after, counted_from=dict(self.read_after_opening)
        )


def phase_server_windows(
    phases: list[str], taken: dict[str, Snapshot], *, after: Snapshot, counted_from: dict[str, float]
) -> dict[str, dict[str, Any]]:
    """What the server did in each of `phases` (in order): from its snapshot to the next phase's, the
    last to `after` (the end of the locust run). A phase without both ends is left out rather than
    run into the next."""
    windows = {}
    for position, phase in enumerate(phases):
        start = taken.get(phase)
        end = taken.get(phases[position + 1]) if position + 1 < len(phases) else after
        if start is None or end is None:
            continue
        figures = server_figures(start, end, cache_enabled=True)
        windows[phase] = {
            **{key: figures[key] for key in PHASE_SERVER_FIGURES},
            # Exact over the window: both ends are read while locust runs.
            "cpu_percent_by_process": cpu_by_process(start, end),
            "counted_from_seconds": counted_from[phase],
        }
    return windows
