"""The web server's WSGI application, and the one thing only its processes do: freeze the garbage
collector's long-lived objects once the process is warm. Tests and management commands never
load this module, so their collector stays as it is.

CPython's cyclic collector walks every object it tracks on each full (oldest-generation) collection,
holding the GIL, so none of the process's threads runs meanwhile. A web process of the benchmark's
stack tracks 160,000 to 180,000 objects once it has served for a while, and a full collection paused
it for 65 to 260 ms, several times in each benchmark run, and freed 500 to 9,000 of them
(docs/benchmarks.md): nearly all of those objects live as long as the process.

So after the process's first WEB_GC_FREEZE_AFTER_REQUESTS requests, the request_finished of the
last of them, sent after its response went out, collects once and moves every object left to the
permanent generation (gc.freeze()), which later collections skip: they walk only what was made
since (18,000 to 22,000 objects in the benchmark's runs, 5 to 45 ms). The price: an object frozen
that later becomes unreachable only through a reference cycle is never freed (reference counting
frees every other). The freeze happens once per process, so that is bounded by what was alive then.
"""

from __future__ import annotations

import gc
import itertools
import logging
import os
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.signals import request_finished
from django.core.wsgi import get_wsgi_application

logger = logging.getLogger(__name__)

FREEZE_DISPATCH_UID = "courseproject.wsgi.freeze"


def freeze_collected() -> int:
    """Collect once, then freeze whatever is left; returns how many objects were frozen."""
    started = time.perf_counter()
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    logger.info(
        "Froze %d objects out of the garbage collector's walks in %.0f ms",
        frozen,
        (time.perf_counter() - started) * 1000,
        extra={"frozen_objects": frozen},
    )
    return frozen


def freeze_when_warm(after_requests: int) -> Callable[..., None] | None:
    """Connect the freeze to this process's request number `after_requests`; returns the receiver
    connected, or None for 0 (never)."""
    if after_requests <= 0:
        return None
    # next() on a count is atomic under the GIL: exactly one request of the process sees the number.
    served = itertools.count(1)

    def freeze_at_warm_request(**_: Any) -> None:
        if next(served) == after_requests:
            freeze_collected()

    request_finished.connect(freeze_at_warm_request, weak=False, dispatch_uid=FREEZE_DISPATCH_UID)
    return freeze_at_warm_request


os.environ.setdefault("DJANGO_SETTINGS_MODULE", "courseproject.settings.local")

application = get_wsgi_application()
freeze_when_warm(settings.WEB_GC_FREEZE_AFTER_REQUESTS)
