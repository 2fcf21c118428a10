"""The suite runs against real services: its own DynamoDB Local (in memory) and redis-server, started
here on the test ports of courseproject.settings.test and always stopped at the end.

Tests share the tables and isolate themselves by data: every user, course and semester they create
is new, so no test depends on another's leftovers and no cleanup needs a Scan.
"""

from __future__ import annotations

import io
import itertools
import random
import signal
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.models import Actor, Role, User
from accounts.tokens import issue_token
from courseproject.background.outbox import broker_breaker
from courseproject.celery import app as celery_app
from courseproject.dynamo.client import observe_client_events
from courses import services as course_services
from courses.models import Course
from devstack.services import RUN_DIR, ManagedProcess, dynamodb_local, redis_server
from semesters.models import Semester
from tests.scripted_http import ScriptedServers

TEST_LOG_DIR = RUN_DIR / "test-logs"
TEST_PASSWORD = "correct-horse-battery"


def pytest_configure(config: pytest.Config) -> None:
    # CI stops a run with SIGTERM: turn it into KeyboardInterrupt so fixtures stop the services.
    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


@pytest.fixture(scope="session", autouse=True)
def local_services() -> Iterator[dict[str, ManagedProcess]]:
    """DynamoDB Local, the cache Redis and the broker Redis, by name ("dynamodb", "cache", "broker")."""
    services = [
        dynamodb_local(port=settings.TEST_DYNAMODB_PORT, data_dir=None, log_path=TEST_LOG_DIR / "dynamodb.log"),
        redis_server(port=settings.TEST_REDIS_PORT, log_path=TEST_LOG_DIR / "redis.log"),
        redis_server(
            port=settings.TEST_BROKER_PORT, log_path=TEST_LOG_DIR / "redis-broker.log", eviction_policy="noeviction"
        ),
    ]
    started = []
    try:
        for service in services:
            started.append(service.start())
        call_command("create_indexes", stdout=io.StringIO())
        yield dict(zip(("dynamodb", "cache", "broker"), services, strict=True))
    finally:
        for service in reversed(started):
            service.stop()


@pytest.fixture(autouse=True)
def fresh_cache() -> None:
    """Throttle counters (and, later, cached values) never leak from one test into the next."""
    cache.clear()


@pytest.fixture
def serve() -> Iterator[ScriptedServers]:
    """Scripted HTTP servers (tests/scripted_http.py), shut down after the test."""
    servers = ScriptedServers()
    yield servers
    servers.close()


@pytest.fixture
def publishing(settings) -> Iterator[redis.Redis]:
    """Publish to the real broker (after the response, as in production) instead of running tasks
    inline; yields the broker's Redis, its `celery` queue empty. A live worker (the end-to-end tests'
    session worker, if they ran first) stops consuming the queue meanwhile, or it would take the
    tasks a test reads off the broker."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    celery_app.conf.task_always_eager = False
    broker_breaker.reset()
    paused = celery_app.control.cancel_consumer("celery", reply=True, timeout=0.5)
    broker_redis = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker_redis.delete("celery")
    yield broker_redis
    broker_redis.delete("celery")
    if paused:
        celery_app.control.add_consumer("celery", reply=True, timeout=0.5)
    celery_app.conf.task_always_eager = True
    broker_breaker.reset()


@dataclass
class DynamoDBCalls:
    operations: list[str]

    def clear(self) -> None:
        self.operations.clear()

    def count(self, operation: str) -> int:
        return self.operations.count(operation)


@pytest.fixture(autouse=True)
def dynamodb_calls() -> Iterator[DynamoDBCalls]:
    """Every DynamoDB operation a test causes, in order; and the guard: no test may Scan."""
    calls = DynamoDBCalls(operations=[])

    def record(model: Any, **_: Any) -> None:
        calls.operations.append(model.name)

    unregister = observe_client_events("before-call.dynamodb", record)
    try:
        yield calls
    finally:
        unregister()
    assert "Scan" not in calls.operations, "A DynamoDB Scan was issued; every read must be a Query or a Get"


def when_cached(cached: list[str], uncached: list[str]) -> list[str]:
    """The DynamoDB calls a request should make, with the cache on and with CACHE_ENABLED=false."""
    return cached if settings.CACHE_ENABLED else uncached


_sequence = itertools.count(1)


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.edu"


_drawn_semesters: set[int] = set()


def unrecorded_semester() -> int:
    """A semester id no other test uses and that has no record (courses cannot be created in it).
    Drawn at random, never twice in a run: a suite draws thousands, and two tests sharing one saw
    each other's courses in their lists."""
    while (semester_id := random.randint(100_000, 999_999)) in _drawn_semesters:
        pass
    _drawn_semesters.add(semester_id)
    return semester_id


# Years 1000 to 1999: neither the demo data nor backfill_semesters' default years reach them.
_fresh_semester_years = itertools.count(random.randint(1000, 1500))


def fresh_semester_id(term: int = 1) -> int:
    """A well-formed semester id (a year and a term from 1 to 3) that no other test uses and that has
    no record, for tests that create semesters as an admin would."""
    return next(_fresh_semester_years) * 10 + term


def open_semester(semester_id: int | None = None, **rules: Any) -> int:
    """A semester record whose registration is open now (a day ago to 30 days on, drop deadline in
    60 days, 18 credits) unless `rules` say otherwise; written directly, as a fixture."""
    now = timezone.now()
    semester = Semester(
        semester_id=semester_id if semester_id is not None else unrecorded_semester(),
        name="Test semester",
        registration_opens_at=now - timedelta(days=1),
        add_deadline=now + timedelta(days=30),
        drop_deadline=now + timedelta(days=60),
        credit_limit=18,
        revision=1,
        created_at=now,
        updated_at=now,
    )
    for name, value in rules.items():
        setattr(semester, name, value)
    semester.save()
    return int(semester.semester_id)


def unique_semester() -> int:
    """A semester no other test uses, so lists by semester hold only this test's courses; its
    registration is open now."""
    return open_semester()


@dataclass
class Person:
    user: User
    client: APIClient

    @property
    def user_id(self) -> str:
        return self.user.user_id

    @property
    def actor(self) -> Actor:
        return Actor(user_id=self.user.user_id, role=self.user.role)


def access_token(user: User) -> str:
    """An access token under the user's current token version, as a sign-in would issue."""
    return issue_token(
        user_id=user.user_id,
        role=user.role,
        token_type="access",
        token_version=int(user.token_version),
        sign_in_id="test-sign-in",
    )


def authenticated_client(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token(user)}")
    return client


@pytest.fixture
def make_person() -> Callable[..., Person]:
    def make(role: Role = Role.STUDENT, name: str | None = None) -> Person:
        user = account_services.register_user(
            email=unique_email(role.value),
            password=TEST_PASSWORD,
            name=name or f"{role.value.title()} {next(_sequence)}",
            role=role,
        )
        return Person(user=user, client=authenticated_client(user))

    return make


@pytest.fixture
def student(make_person: Callable[..., Person]) -> Person:
    return make_person(Role.STUDENT)


@pytest.fixture
def instructor(make_person: Callable[..., Person]) -> Person:
    return make_person(Role.INSTRUCTOR)


@pytest.fixture
def admin(make_person: Callable[..., Person]) -> Person:
    return make_person(Role.ADMIN)


@pytest.fixture
def make_course(instructor: Person) -> Callable[..., Course]:
    def make(*, owner: Person | None = None, **fields: Any) -> Course:
        values = {
            # Never a code tests name as a prerequisite (CS 101): a course cannot be its own prerequisite.
            "course_code": f"TEST {next(_sequence)}",
            "title": "Distributed Systems",
            "semester_id": unique_semester(),
            "department_id": 1,
            "credits": 3,
            "capacity": 30,
            **fields,
        }
        return course_services.create_course(actor=(owner or instructor).actor, **values)

    return make


@pytest.fixture
def anonymous() -> APIClient:
    return APIClient()


def course_list(person: Person, semester_id: int, **params: Any) -> Any:
    """GET /api/courses for one semester, as `person`."""
    return person.client.get("/api/courses", {"semester_id": semester_id, **params})


def course_owner(course: Course) -> Actor:
    """The course's instructor, as the services take an actor."""
    return Actor(user_id=course.instructor_id, role=Role.INSTRUCTOR)
