"""A real worker yields the default queue to a burst of refused writes (courseproject/background/
yielding.py): while the web's count of refused writes grows, an audit record waits in the broker
and the waitlist's queue is still served; once the count stops growing, the record is written; and
a burst that outlasts WORKER_YIELD_MAX_SECONDS is worked through. The refusals are added to the
web's counters in Redis as a web process adds them (the counting itself: tests/test_write_admission.py).

The worker has a broker Redis of its own, so the suite's shared worker (which does not yield) takes
none of its tasks, and this one none of theirs."""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Iterator

import pytest
from django.conf import settings
from django_redis import get_redis_connection
from kombu import Connection

from audit.models import AuditRecord
from courseproject.celery import app
from courseproject.observability.counters import REFUSED_WRITES, counters_key
from devstack import services as devstack
from tests.conftest import TEST_LOG_DIR
from tests.e2e.conftest import TEST_ENV
from tests.e2e.test_worker import publish_audit_event, wait_for

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored"),
    pytest.mark.skipif(not settings.CACHE_ENABLED, reason="the web's counters live in the cache's Redis"),
]

# Long enough for the first test's promotion and wait inside one stretch on a busy machine.
MAX_SECONDS = 15
GRACE_SECONDS = 2
YIELDED = "the celery queue waits until it stops"
RESUMED = "The web no longer refuses writes"
CUT_SHORT = "Writes are still refused after"


@pytest.fixture(scope="module")
def broker(local_services) -> Iterator[Connection]:
    """A broker Redis of this module's own, and a connection to publish to it."""
    port = devstack.free_port()
    server = devstack.redis_server(
        port=port, log_path=TEST_LOG_DIR / "redis-broker-yield.log", eviction_policy="noeviction"
    ).start()
    try:
        with app.connection_for_write(f"redis://127.0.0.1:{port}/0") as connection:
            yield connection
    finally:
        server.stop()


@pytest.fixture(scope="module")
def yielding_worker(broker: Connection) -> Iterator[devstack.ManagedProcess]:
    worker = devstack.celery_worker(
        hostname="e2e-yield",
        log_path=TEST_LOG_DIR / "celery-worker-yield.log",
        env={
            **TEST_ENV,
            "TEST_BROKER_PORT": str(broker.port),
            "WORKER_YIELD_MAX_SECONDS": str(MAX_SECONDS),
            "WORKER_YIELD_GRACE_SECONDS": str(GRACE_SECONDS),
        },
    )
    # Ready when it logs so (a ping would go to the suite's broker); the log is appended to across runs.
    readies_before = log_count(worker, " ready.")
    worker.ready = lambda: log_count(worker, " ready.") > readies_before
    worker.start(timeout=60)
    try:
        yield worker
    finally:
        worker.stop()


def log_count(worker: devstack.ManagedProcess, text: str) -> int:
    try:
        return worker.log_path.read_text(errors="replace").count(text)
    except FileNotFoundError:
        return 0


@contextlib.contextmanager
def refusals_counted() -> Iterator[None]:
    """A burst: a refused write added to the web's counters every 0.2 s, as web processes add them."""
    stop = threading.Event()

    def count() -> None:
        redis = get_redis_connection("default")
        while not stop.wait(0.2):
            redis.hincrby(counters_key(), REFUSED_WRITES, 1)

    counter = threading.Thread(target=count, daemon=True)
    counter.start()
    try:
        yield
    finally:
        stop.set()
        counter.join()


def audit_records_by(actor: str) -> int:
    return AuditRecord.by_actor.count(actor)


def test_the_default_queue_waits_out_a_burst_and_the_waitlists_queue_does_not(yielding_worker, broker, make_course):
    actor = f"yield-{uuid.uuid4().hex[:8]}"
    course = make_course()
    promotion_id = uuid.uuid4().hex
    yields_before = log_count(yielding_worker, YIELDED)
    with refusals_counted():
        assert wait_for(lambda: log_count(yielding_worker, YIELDED) > yields_before, timeout=10)
        publish_audit_event(f"{actor}-1", actor, connection=broker)
        app.send_task(
            "enrollments.promote_waitlist",
            task_id=promotion_id,
            kwargs={"event_id": promotion_id, "course_id": course.course_id},
            connection=broker,
        )
        assert wait_for(lambda: f"{promotion_id}] succeeded" in yielding_worker.log_tail(100), timeout=20)
        assert not wait_for(lambda: audit_records_by(actor) > 0, timeout=2)  # waiting in the broker
    resumes_before = log_count(yielding_worker, RESUMED)
    assert wait_for(lambda: audit_records_by(actor) == 1, timeout=GRACE_SECONDS + 15, interval=0.2)
    assert log_count(yielding_worker, RESUMED) == resumes_before + 1


def test_a_burst_longer_than_the_maximum_is_worked_through(yielding_worker, broker):
    actor = f"yield-{uuid.uuid4().hex[:8]}"
    yields_before, cuts_before = log_count(yielding_worker, YIELDED), log_count(yielding_worker, CUT_SHORT)
    with refusals_counted():
        assert wait_for(lambda: log_count(yielding_worker, YIELDED) > yields_before, timeout=10)
        publish_audit_event(f"{actor}-1", actor, connection=broker)
        # Refusals go on; the record is written once the stretch reaches its maximum.
        assert wait_for(lambda: audit_records_by(actor) == 1, timeout=MAX_SECONDS + 15, interval=0.2)
        assert log_count(yielding_worker, CUT_SHORT) == cuts_before + 1
