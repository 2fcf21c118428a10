"""When a worker yields the default queue to a burst of refused writes (courseproject/background/
yielding.py): the decision, from the total of refused writes read once a second; and the step in a
worker's consumer, with a stand-in for Celery's consumer and the web's counters in the real Redis.
The step in a real worker: tests/e2e/test_worker_yielding.py."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from celery import Celery
from django_redis import get_redis_connection
from kombu import Queue

from courseproject.background.yielding import Yielding, YieldToWriteBursts
from courseproject.observability.counters import REFUSED_WRITES, counters_key


def decisions(state: Yielding, totals: list[int | None]) -> list[bool]:
    """What the worker decides at each second, reading `totals` one a second from t=0."""
    return [state.observe(total, float(second)) for second, total in enumerate(totals)]


def test_yields_while_refusals_grow_and_works_again_after_the_grace():
    state = Yielding(grace_seconds=3, max_seconds=60)
    # Refusals at t=2 and t=3; the grace runs out at t=6.
    assert decisions(state, [5, 5, 9, 14, 14, 14, 14, 14]) == [False, False, True, True, True, True, False, False]


def test_the_first_reading_is_a_baseline_not_a_burst():
    state = Yielding(grace_seconds=3, max_seconds=60)
    assert decisions(state, [1_000, 1_000, 1_000]) == [False, False, False]


def test_an_unreadable_total_is_no_news_and_a_reset_is_no_refusal():
    state = Yielding(grace_seconds=3, max_seconds=60)
    # Redis unreadable from t=2: the burst seen at t=1 ends with its grace. The counters cleared at
    # t=5 (a lower total) are no refusal; growth from there is.
    assert decisions(state, [5, 6, None, None, None, 0, 0, 1]) == [False, True, True, True, False, False, False, True]


def test_a_long_burst_is_yielded_to_at_most_max_seconds_then_worked_through_as_long():
    state = Yielding(grace_seconds=3, max_seconds=10)
    answers = decisions(state, list(range(40)))  # refusals every second
    assert answers[0] is False  # the baseline
    assert all(answers[1:11])  # yielding from t=1 ...
    assert not any(answers[11:21])  # ... for 10 s, then working for 10 s
    assert all(answers[21:31])
    assert not any(answers[31:40])


# --- The step in a worker's consumer, with Celery's queue selection and a stand-in for its consumer ---


class FakeTimer:
    def __init__(self) -> None:
        self.entries: list[FakeEntry] = []

    def call_repeatedly(self, seconds: float, function: Callable, args: tuple) -> FakeEntry:
        entry = FakeEntry(function, args)
        self.entries.append(entry)
        return entry


class FakeEntry:
    def __init__(self, function: Callable, args: tuple) -> None:
        self.function, self.args, self.canceled = function, args, False

    def __call__(self) -> None:
        self.function(*self.args)

    def cancel(self) -> None:
        self.canceled = True


class FakeConsumer:
    """What the step uses of Celery's Consumer: its app's queues, its timer, and taking a queue or
    leaving it, which select and deselect the queue as Celery's do."""

    def __init__(self, *queues: str) -> None:
        self.app = Celery("yielding-test", set_as_current=False)
        self.app.conf.task_queues = [Queue(name) for name in queues]
        self.timer = FakeTimer()
        self.changes: list[str] = []

    @property
    def consuming(self) -> set[str]:
        return set(self.app.amqp.queues.consume_from)

    def cancel_task_queue(self, queue: str) -> None:
        self.changes.append(f"leave {queue}")
        self.app.amqp.queues.deselect(queue)

    def add_task_queue(self, queue: str) -> None:
        self.changes.append(f"take {queue}")
        queues = self.app.amqp.queues
        queues.select_add(queues[queue])


@pytest.fixture
def refusals(settings) -> Callable[[int], None]:
    """Adds refused writes to the web's counters in Redis, as web processes do."""
    if not settings.CACHE_ENABLED:
        pytest.skip("the web's counters live in the cache's Redis")
    redis = get_redis_connection("default")
    return lambda count: redis.hincrby(counters_key(), REFUSED_WRITES, count)


def test_the_step_leaves_the_default_queue_during_a_burst_and_takes_it_back_after_a_restart(settings, refusals):
    settings.WORKER_YIELD_MAX_SECONDS, settings.WORKER_YIELD_GRACE_SECONDS = 60, 3
    consumer = FakeConsumer("celery", "metrics")
    step = YieldToWriteBursts(consumer)
    step.start(consumer)
    [check] = consumer.timer.entries
    check()  # the baseline
    refusals(5)
    check()
    assert consumer.changes == ["leave celery"]
    assert consumer.consuming == {"metrics"}
    # The broker's connection is lost: the consumer stops its steps and starts them again, and
    # its new task consumer takes the queues selected then.
    step.stop(consumer)
    assert check.canceled
    assert consumer.consuming == {"celery", "metrics"}
    step.start(consumer)
    assert not step.state.yielding
    # The next check is a baseline for the count, but the refusal seen a moment ago still counts:
    # the burst goes on, and the queue taken back with the restart is left again.
    consumer.timer.entries[-1]()
    assert consumer.changes == ["leave celery", "leave celery"]
    assert consumer.consuming == {"metrics"}


@pytest.mark.parametrize(("queues", "max_seconds"), [(("waitlist", "metrics"), 60), (("celery", "metrics"), 0)])
def test_the_step_does_nothing_without_the_default_queue_or_when_off(settings, queues, max_seconds):
    settings.WORKER_YIELD_MAX_SECONDS = max_seconds
    consumer = FakeConsumer(*queues)
    YieldToWriteBursts(consumer).start(consumer)
    assert consumer.timer.entries == []
