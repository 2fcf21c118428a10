"""The canary that proves Redis's change messages still reach a web process (caching/tracking.py): a
busy process keeps its copies as long as they are proven current, and a connection that goes silent
(tracking switched off on it, the socket left open) stops serving them within the proof's window."""

from __future__ import annotations

import logging
import time

import pytest
from django.conf import settings
from django_redis import get_redis_connection

from courseproject.caching import keys
from courseproject.caching.local_copies import local_copies
from tests.test_local_copies import MESSAGE_DELAY_SECONDS, other_process

pytestmark = pytest.mark.skipif(not settings.CACHE_ENABLED, reason="exercises the cache; CACHE_ENABLED=false")

PROOF_SECONDS = 0.4
LOOKUP_EVERY_SECONDS = 0.02


@pytest.fixture
def short_proof(settings):
    settings.CACHE_LOCAL_COPY_PROOF_SECONDS = PROOF_SECONDS
    local_copies.reset()
    yield
    local_copies.reset()


def keep(name: str, key: str) -> None:
    with local_copies.filling() as fill:
        fill.keep(name, b"kept", keys=[key])


def silence_tracking() -> float:
    """Switch tracking off on this process's connection and leave it open, as a fault would."""
    connection = local_copies._connection
    assert connection is not None and connection._sock is not None
    connection.send_command("CLIENT", "TRACKING", "OFF")
    assert connection.read_response() in (b"OK", "OK")
    return time.monotonic()


def test_a_busy_process_keeps_its_copies_past_the_proof_window(short_proof):
    key = keys.course_seats("canary-busy").name
    keep("a busy copy", key)
    started = time.monotonic()
    while time.monotonic() - started < 3 * PROOF_SECONDS:
        assert local_copies.lookup("a busy copy") == b"kept"
        time.sleep(LOOKUP_EVERY_SECONDS)
    canary = local_copies._canary.key
    assert canary.startswith(settings.CACHE_KEY_PREFIX.encode())
    assert get_redis_connection("default").exists(canary)


def test_an_idle_process_serves_no_copy_older_than_its_proof(short_proof):
    keep("an idle copy", keys.course_seats("canary-idle").name)
    assert local_copies.lookup("an idle copy") == b"kept"
    time.sleep(PROOF_SECONDS + 0.1)
    assert local_copies.lookup("an idle copy") is None


def test_a_silent_tracking_connection_stops_serving_copies_within_the_proof(short_proof, caplog):
    key = keys.course_seats("canary-silent").name
    keep("a silent copy", key)
    assert local_copies.lookup("a silent copy") == b"kept"
    silenced_at = silence_tracking()
    other_process().set(key, b"changed, and nobody told")
    while True:
        asked_at = time.monotonic()
        copy = local_copies.lookup("a silent copy")
        if asked_at - silenced_at > PROOF_SECONDS:
            assert copy is None, "a copy outlived its proof on a silent connection"
            break
        time.sleep(LOOKUP_EVERY_SECONDS)
    # The unheard canary reopens the connection, and tracking works on it again.
    with caplog.at_level(logging.WARNING, logger="courseproject.caching.local_copies"):
        deadline = time.monotonic() + 3 * PROOF_SECONDS
        while "reopened" not in caplog.text and time.monotonic() < deadline:
            local_copies.lookup("a silent copy")
            time.sleep(LOOKUP_EVERY_SECONDS)
    assert "tracking connection reopened" in caplog.text
    keep("a copy after the fault", key)
    assert local_copies.lookup("a copy after the fault") == b"kept"
    other_process().set(key, b"changed again")
    time.sleep(MESSAGE_DELAY_SECONDS)
    assert local_copies.lookup("a copy after the fault") is None


def test_a_canary_heard_proves_the_copies_kept_before_it_was_written(short_proof):
    keep("a proven copy", keys.course_seats("canary-proof").name)
    time.sleep(PROOF_SECONDS * 0.6)
    assert local_copies.lookup("a proven copy") == b"kept"  # sends the canary: half the window has gone
    time.sleep(MESSAGE_DELAY_SECONDS)
    assert local_copies.lookup("a proven copy") == b"kept"  # applies the canary's message
    proven_at = local_copies._canary.proven_at
    time.sleep(PROOF_SECONDS * 0.6)
    # Older than the window since it was kept, but proven current less than a window ago.
    assert time.monotonic() - proven_at < PROOF_SECONDS
    assert local_copies.lookup("a proven copy") == b"kept"
