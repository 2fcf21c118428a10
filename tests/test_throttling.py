"""Throttles that hold: sign-in per client address whatever the email, failures per account whatever
the address (and no password hash spent past either), writes per user with a burst and a staff tier,
password-reset requests per email; 429 with Retry-After and the API's error format; with Redis away,
limits held in the process's memory and never a 500.

Each test signs in from addresses of its own (REMOTE_ADDR), so buckets never carry over."""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable, Iterator

import pytest
from django.conf import settings
from django.contrib.auth.hashers import get_hasher
from django.test import override_settings
from rest_framework.test import APIClient

from accounts.models import Role
from courseproject.caching.connection import gate
from courseproject.throttling import memory_buckets
from devstack.services import free_port
from tests.conftest import TEST_PASSWORD, unique_email

_addresses = itertools.count(1)


def new_address() -> str:
    number = next(_addresses) + random.randrange(1_000_000)
    return f"10.{number // 65536 % 256}.{number // 256 % 256}.{number % 256}"


def login(email: str, password: str = TEST_PASSWORD, *, address: str):
    return APIClient().post(
        "/api/auth/login", {"email": email, "password": password}, format="json", REMOTE_ADDR=address
    )


@pytest.fixture
def password_hashes(monkeypatch) -> Iterator[Callable[[], int]]:
    """How many password hashes were computed: Django's hasher counted, our code left alone."""
    hasher_class = type(get_hasher("default"))
    original_encode = hasher_class.encode
    calls = []

    def counting_encode(self, password, salt, *args, **kwargs):
        calls.append(1)
        return original_encode(self, password, salt, *args, **kwargs)

    monkeypatch.setattr(hasher_class, "encode", counting_encode)
    yield lambda: len(calls)


def assert_throttled(response) -> None:
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert set(response.json()) == {"detail", "code"}
    assert int(response["Retry-After"]) >= 1


class TestSignInPerAddress:
    def test_a_thousand_sign_ins_with_random_emails_from_one_address_stop_hashing_at_the_limit(
        self, settings, password_hashes
    ):
        settings.LOGIN_ADDRESS_THROTTLE_RATE = "50/hour"  # 50 at once, then one every 72 s: none refills here
        address = new_address()
        statuses, hashes_at_first_refusal = [], None
        for _ in range(1000):
            statuses.append(login(unique_email("guess"), "a-guess-1234", address=address).status_code)
            if statuses[-1] == 429 and hashes_at_first_refusal is None:
                hashes_at_first_refusal = password_hashes()
        assert statuses == [401] * 50 + [429] * 950
        assert password_hashes() == hashes_at_first_refusal  # no hash after the limit
        assert_throttled(login(unique_email(), address=address))

    def test_the_refusal_says_when_to_come_back(self, settings):
        settings.LOGIN_ADDRESS_THROTTLE_RATE = "1/min"
        address = new_address()
        login(unique_email(), address=address)
        response = login(unique_email(), address=address)
        assert_throttled(response)
        assert 55 <= int(response["Retry-After"]) <= 60

    def test_other_addresses_are_not_slowed(self, settings, student):
        settings.LOGIN_ADDRESS_THROTTLE_RATE = "2/min"
        busy = new_address()
        for _ in range(3):
            login(unique_email(), address=busy)
        assert login(student.user.email, address=new_address()).status_code == 200

    def test_the_address_is_the_one_num_proxies_entries_from_the_end_of_x_forwarded_for(self, settings):
        settings.LOGIN_ADDRESS_THROTTLE_RATE = "1/min"
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
        load_balancer = new_address()

        def via_load_balancer(client_address: str):
            return APIClient().post(
                "/api/auth/login",
                {"email": unique_email(), "password": "a-guess-1234"},
                format="json",
                REMOTE_ADDR=load_balancer,
                HTTP_X_FORWARDED_FOR=f"198.51.100.7, {client_address}",
            )

        first, second = new_address(), new_address()
        assert via_load_balancer(first).status_code == 401
        assert via_load_balancer(second).status_code == 401  # another client behind the same balancer
        assert via_load_balancer(first).status_code == 429


class TestFailuresPerAccount:
    def test_failures_from_many_addresses_throttle_the_account_before_any_hash(
        self, settings, student, make_person, password_hashes
    ):
        settings.LOGIN_FAILURE_THROTTLE_RATE = "5/15min"
        for _ in range(5):
            assert login(student.user.email, "wrong-password-1", address=new_address()).status_code == 401
        hashes = password_hashes()
        response = login(student.user.email, address=new_address())  # even the right password
        assert_throttled(response)
        assert 170 <= int(response["Retry-After"]) <= 180  # one failure's worth comes back every 3 minutes
        assert password_hashes() == hashes
        # Another account is not affected, from any address.
        assert login(make_person(Role.STUDENT).user.email, address=new_address()).status_code == 200

    def test_the_email_is_normalized_and_unknown_emails_count_too(self, settings):
        settings.LOGIN_FAILURE_THROTTLE_RATE = "2/15min"
        email = unique_email("nobody")
        assert login(email, address=new_address()).status_code == 401
        assert login(f"  {email.upper()} ", address=new_address()).status_code == 401
        assert_throttled(login(email, address=new_address()))

    def test_the_owner_is_let_in_again_after_the_window(self, settings, student):
        settings.LOGIN_FAILURE_THROTTLE_RATE = "2/2s"
        for _ in range(2):
            login(student.user.email, "wrong-password-1", address=new_address())
        refused = login(student.user.email, address=new_address())
        assert_throttled(refused)
        time.sleep(int(refused["Retry-After"]))
        assert login(student.user.email, address=new_address()).status_code == 200

    def test_a_successful_sign_in_does_not_clear_the_failures(self, settings, student):
        """Otherwise each sign-in of the owner would hand a guesser a fresh allowance."""
        settings.LOGIN_FAILURE_THROTTLE_RATE = "3/15min"
        address = new_address()
        login(student.user.email, "wrong-password-1", address=address)
        login(student.user.email, "wrong-password-2", address=address)
        assert login(student.user.email, address=address).status_code == 200
        login(student.user.email, "wrong-password-3", address=address)
        assert_throttled(login(student.user.email, address=address))


def enroll(person, course, **body):
    return person.client.post("/api/enrollments", {"course_id": course.course_id, **body}, format="json")


def drop(person, course):
    return person.client.delete(f"/api/enrollments/{course.course_id}")


class TestWritesPerUser:
    def test_a_student_writes_a_burst_then_at_the_rate_and_reads_pass(self, settings, student, make_course):
        settings.WRITE_THROTTLE_RATE, settings.WRITE_THROTTLE_BURST = "6/min", 3
        course = make_course()
        assert [enroll(student, course).status_code, drop(student, course).status_code] == [201, 204]
        assert enroll(student, course).status_code == 201
        refused = drop(student, course)
        assert_throttled(refused)
        assert 9 <= int(refused["Retry-After"]) <= 10  # 6 a minute: one every 10 s
        assert student.client.get("/api/enrollments/me").status_code == 200
        assert student.client.get(f"/api/courses/{course.course_id}").status_code == 200

    def test_waitlist_joins_and_leaves_count_as_writes(self, settings, student, make_person, make_course):
        settings.WRITE_THROTTLE_RATE, settings.WRITE_THROTTLE_BURST = "1/min", 2
        course = make_course(capacity=1)
        assert enroll(make_person(Role.STUDENT), course).status_code == 201
        assert enroll(student, course, waitlist=True).json()["status"] == "waitlisted"
        assert drop(student, course).status_code == 204
        assert_throttled(enroll(student, course, waitlist=True))

    def test_limits_are_per_user(self, settings, make_person, make_course):
        settings.WRITE_THROTTLE_RATE, settings.WRITE_THROTTLE_BURST = "1/min", 1
        course = make_course()
        first, second = make_person(Role.STUDENT), make_person(Role.STUDENT)
        assert enroll(first, course).status_code == 201
        assert_throttled(drop(first, course))
        assert enroll(second, course).status_code == 201

    def test_staff_have_a_higher_tier_for_course_writes(self, settings, instructor, student, make_course):
        settings.WRITE_THROTTLE_RATE, settings.WRITE_THROTTLE_BURST = "1/min", 1
        settings.STAFF_WRITE_THROTTLE_RATE, settings.STAFF_WRITE_THROTTLE_BURST = "1/min", 3
        course = make_course(owner=instructor)
        url = f"/api/courses/{course.course_id}"
        statuses = [instructor.client.patch(url, {"title": f"Edit {n}"}, format="json").status_code for n in range(4)]
        assert statuses == [200, 200, 200, 429]
        assert enroll(student, course).status_code == 201
        assert_throttled(drop(student, course))


class TestPasswordResetPerEmail:
    def test_reset_requests_are_limited_per_normalized_email(self, settings):
        settings.PASSWORD_RESET_THROTTLE_RATE = "2/hour"
        email, client = unique_email(), APIClient()

        def reset(address: str):
            return client.post("/api/auth/password-reset", {"email": address}, format="json", REMOTE_ADDR=new_address())

        assert [reset(email).status_code, reset(email.upper()).status_code] == [202, 202]
        assert_throttled(reset(f" {email} "))
        assert reset(unique_email()).status_code == 202


class TestRedisAway:
    @pytest.fixture
    def redis_away(self) -> Iterator[None]:
        """The cache Redis at a port nobody listens on; breaker short so each call tries it again."""
        url = f"redis://127.0.0.1:{free_port()}/0"
        caches = {"default": {**settings.CACHES["default"], "LOCATION": url}}
        memory_buckets.clear()
        try:
            with override_settings(CACHES=caches, REDIS_URL=url, CACHE_BREAKER_SECONDS=0.05):
                yield
        finally:
            memory_buckets.clear()
            gate.reset()

    def test_sign_in_is_still_throttled_per_process_and_nothing_fails(
        self, redis_away, settings, student, make_course, password_hashes
    ):
        settings.LOGIN_ADDRESS_THROTTLE_RATE = "3/min"
        address = new_address()
        statuses = [login(unique_email(), "a-guess-1234", address=address).status_code for _ in range(3)]
        hashes = password_hashes()
        refused = login(unique_email(), address=address)
        assert statuses == [401, 401, 401]
        assert_throttled(refused)
        assert password_hashes() == hashes
        assert len(memory_buckets) > 0  # counted in this process, Redis being away
        assert login(student.user.email, address=new_address()).status_code == 200
        course = make_course()
        assert [enroll(student, course).status_code, drop(student, course).status_code] == [201, 204]
