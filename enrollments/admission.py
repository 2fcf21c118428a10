"""Admission for the writes that wait on DynamoDB (enroll, drop, waitlist joins and leaves).

Each web process runs WEB_WRITE_SLOTS of them at once; up to WEB_WRITE_QUEUE more wait their turn,
first come first served, for at most WEB_WRITE_WAIT_SECONDS; one more (or one that waited its time
out) is answered 429 with `Retry-After` and the code `writes_busy`, and nothing of it is written.
Why: when registration opens, hundreds of enrolls arrive in the same second and each waits on
DynamoDB's transactions. Without a cap they take every thread of every process, and the students who
only browse wait seconds behind them for a thread. With it, half the threads stay free for reads by
default, and a refused enroll costs a fraction of a millisecond, so the server keeps up with the
retries. The price: refused writes come back in no particular order, so the last enroll of a burst
is answered later than in a first-come queue (docs/benchmarks.md has the rush with and without).

429 rather than 503: it is the answer clients already know from the per-user throttles (wait
`Retry-After`, send the same request again), and the load balancer does not count it as a server
error. The slot is taken before the per-user throttle, so a refused attempt spends none of the
student's write allowance.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from django.conf import settings
from rest_framework.exceptions import Throttled
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request

from courseproject.observability.counters import record_write_refused


class WritesBusy(Throttled):
    default_code = "writes_busy"
    default_detail = "Too many enrollment changes are being made right now; yours was not made."
    extra_detail_singular = "Please send it again in {wait} second."
    extra_detail_plural = "Please send it again in {wait} seconds."


class WriteSlots:
    """The writes this process runs at once (WEB_WRITE_SLOTS; 0: any number), and a queue for more:
    up to WEB_WRITE_QUEUE of them wait, first come first served, at most WEB_WRITE_WAIT_SECONDS
    each. A write that finds the queue full, or waits its time out, is refused."""

    def __init__(self) -> None:
        self._turn = threading.Condition()
        self._in_flight = 0
        self._waiting = 0

    def take(self) -> bool:
        limit = settings.WEB_WRITE_SLOTS
        with self._turn:
            # Nobody overtakes the queue: a slot free while writes wait is theirs.
            if not limit or (self._in_flight < limit and not self._waiting):
                self._in_flight += 1
                return True
            if self._waiting >= settings.WEB_WRITE_QUEUE:
                return False
            self._waiting += 1
            try:
                # Condition wakes its waiters in the order they came.
                admitted = self._turn.wait_for(lambda: self._in_flight < limit, settings.WEB_WRITE_WAIT_SECONDS)
            finally:
                self._waiting -= 1
            if admitted:
                self._in_flight += 1
            elif self._in_flight < limit:
                self._turn.notify()  # the wake-up this one timed out on goes to the next in line
            return admitted

    def give_back(self) -> None:
        with self._turn:
            self._in_flight -= 1
            self._turn.notify()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def waiting(self) -> int:
        return self._waiting

    def reset(self) -> None:
        self._turn = threading.Condition()
        self._in_flight = 0
        self._waiting = 0


WRITE_SLOTS = WriteSlots()
# A web server that forks after import must not hand its children the parent's count (or a held lock).
os.register_at_fork(after_in_child=WRITE_SLOTS.reset)


class AdmittedWritesMixin:
    """For a DRF view whose unsafe methods are admitted by WRITE_SLOTS: the slot is taken after
    authentication and permissions (a stranger's request takes none) and before the throttles, and
    given back when the response is done, whatever happened meanwhile."""

    _holds_write_slot = False

    def check_throttles(self, request: Request) -> None:
        if request.method not in SAFE_METHODS:
            if not WRITE_SLOTS.take():
                record_write_refused()
                raise WritesBusy(wait=settings.WEB_WRITE_RETRY_AFTER_SECONDS)
            self._holds_write_slot = True
        super().check_throttles(request)  # type: ignore[misc]

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
        finally:
            if self._holds_write_slot:
                self._holds_write_slot = False
                WRITE_SLOTS.give_back()
