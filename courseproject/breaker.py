"""One circuit breaker for every dependency a request can do without for a moment (the cache Redis,
the Celery broker).

After a failure the breaker opens: callers skip the dependency for `open_seconds` instead of paying
its timeout on every request, then try it again. Failures are logged at most once per
`log_interval_seconds`, with how many there were, so an outage is one log line a minute rather
than one per request. Durations are read from settings at each use, so tests and operators can
change them without a restart. Imports nothing of the project: caching and background both use it.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings


class CircuitBreaker:
    def __init__(
        self,
        *,
        name: str,
        open_seconds_setting: str,
        consequence: str,
        log_interval_setting: str | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        self.name = name
        self._open_seconds_setting = open_seconds_setting
        self._log_interval_setting = log_interval_setting
        self._consequence = consequence
        # None: the breaker opens quietly (another part of the process already reports the outage).
        self._logger = logger
        self._lock = threading.Lock()
        self._open_until = 0.0
        self._failures_since_log = 0
        self._last_log = -float("inf")

    def is_open(self) -> bool:
        return time.monotonic() < self._open_until

    def trip(self, error: Exception) -> None:
        """A call failed: skip the dependency for a while, and say so (at most once per log interval)."""
        now = time.monotonic()
        log_interval = getattr(settings, self._log_interval_setting) if self._log_interval_setting else 0.0
        with self._lock:
            self._open_until = now + getattr(settings, self._open_seconds_setting)
            self._failures_since_log += 1
            if self._logger is None or now - self._last_log < log_interval:
                return
            failures, self._failures_since_log, self._last_log = self._failures_since_log, 0, now
        self._logger.warning(
            "%s unavailable (%s: %s); %s. %d failures since the last report.",
            self.name,
            type(error).__name__,
            error,
            self._consequence,
            failures,
        )

    def reset(self) -> None:
        """Close the breaker: the dependency answered again (or a test starts afresh)."""
        with self._lock:
            self._open_until = 0.0
