"""A web process freezes its garbage collector's long-lived objects once, when warm (courseproject/wsgi.py)."""

import gc
import importlib
import weakref

import pytest
from django.core.signals import request_finished

from courseproject.wsgi import FREEZE_DISPATCH_UID, freeze_when_warm


@pytest.fixture
def unfrozen():
    gc.unfreeze()
    request_finished.disconnect(dispatch_uid=FREEZE_DISPATCH_UID)
    yield
    request_finished.disconnect(dispatch_uid=FREEZE_DISPATCH_UID)
    gc.unfreeze()


def finish_requests(count: int) -> None:
    for _ in range(count):
        request_finished.send(sender=None)


class Cycle:
    def __init__(self) -> None:
        self.itself = self


def test_the_warm_request_freezes_once(unfrozen, caplog):
    caplog.set_level("INFO", logger="courseproject.wsgi")
    freeze_when_warm(3)
    finish_requests(2)
    assert gc.get_freeze_count() == 0
    finish_requests(1)
    assert gc.get_freeze_count() > 0
    assert "Froze" in caplog.text
    gc.unfreeze()
    finish_requests(10)
    assert gc.get_freeze_count() == 0, "a process freezes once, not at every request after the warm one"


def test_zero_never_freezes(unfrozen):
    assert freeze_when_warm(0) is None
    finish_requests(5)
    assert gc.get_freeze_count() == 0


def test_cycles_made_after_the_freeze_are_still_collected(unfrozen):
    freeze_when_warm(1)
    finish_requests(1)
    before_freeze_count = gc.get_freeze_count()
    cycle = Cycle()
    collected = weakref.ref(cycle)
    del cycle
    gc.collect()
    assert collected() is None
    # A collection never adds to the frozen objects; reference counting may free some of them
    # meanwhile (another thread letting go of one), so their count can only stay or fall.
    assert gc.get_freeze_count() <= before_freeze_count


def test_the_web_servers_application_freezes_after_the_configured_requests(unfrozen, settings):
    settings.WEB_GC_FREEZE_AFTER_REQUESTS = 2
    importlib.reload(importlib.import_module("courseproject.wsgi"))
    finish_requests(1)
    assert gc.get_freeze_count() == 0
    finish_requests(1)
    assert gc.get_freeze_count() > 0
