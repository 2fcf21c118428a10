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

Two places refuse. While the slots and the queue are all taken, `WritesBusyMiddleware` answers an
admitted write before DRF builds its request, authenticates it (a Redis round trip) and dispatches
it: that refusal costs a third of the CPU of one refused inside the view, and in the first seconds
of a rush, when most writes are refused, it about halved the browse p99 (docs/benchmarks.md). The
price: while the process is busy, a write with a bad token is answered 429, and 401 only on its
retry. A write the middleware lets through still takes its slot in the view, after authentication,
and is refused there if the queue filled meanwhile or its wait ran out.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, ResolverMatch, resolve
from rest_framework.exceptions import Throttled
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request

from courseproject.api.errors import error_body
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

    def full(self) -> bool:
        """Every slot and every place in the queue is taken: a write arriving now would be refused.
        Read without the lock: a count one write stale errs either way, and take() decides."""
        limit = settings.WEB_WRITE_SLOTS
        return bool(limit) and self._in_flight + self._waiting >= limit + settings.WEB_WRITE_QUEUE

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
        # A method the view does not answer (405) writes nothing, so it waits for no slot.
        if request.method not in SAFE_METHODS and hasattr(self, request.method.lower()):
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


def writes_busy_response() -> JsonResponse:
    """The answer the view gives a refused write (WritesBusy through the API's exception handler),
    built without DRF."""
    refusal = WritesBusy(wait=settings.WEB_WRITE_RETRY_AFTER_SECONDS)
    response = JsonResponse(error_body(str(refusal.detail), refusal.default_code), status=refusal.status_code)
    response["Retry-After"] = str(refusal.wait)
    return response


def _admitted_write(request: HttpRequest) -> ResolverMatch | None:
    """The URL match of a request that an AdmittedWritesMixin view would run as a write, else None:
    check_throttles's test, made from the URL's view function before there is a view instance."""
    if request.method in SAFE_METHODS:
        return None
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return None
    view_class = getattr(match.func, "cls", None)
    if view_class is None or not issubclass(view_class, AdmittedWritesMixin):
        return None
    method = request.method.lower()
    # A viewset's route maps methods to its actions; a plain APIView answers what it defines.
    actions = getattr(match.func, "actions", None)
    answered = method in actions if actions is not None else hasattr(view_class, method)
    return match if answered else None


class WritesBusyMiddleware:
    """Refuses an admitted write while this process's write slots and queue are all taken, before
    DRF authenticates and dispatches it (the module's docstring says why). Placed inside the
    middleware that identifies, logs and counts requests, so a refusal is logged like any answer."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # full() first: while the process is not busy, every request passes after one look at the counts.
        if WRITE_SLOTS.full() and (match := _admitted_write(request)) is not None:
            request.resolver_match = match  # the request log's route
            record_write_refused()
            return writes_busy_response()
        return self.get_response(request)
