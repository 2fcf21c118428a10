"""Who may try how often: sign-in, registration, password reset and writes, each a token bucket
(courseproject/throttling.py; Redis, or this process's memory while Redis is away).

Sign-in has two limits, so that no request spends a password hash unthrottled:
- per client address, whatever the email: one client rotating emails is slowed like any other
  (LOGIN_ADDRESS_THROTTLE_RATE, high enough for a campus behind a few NAT addresses);
- failures per account, whatever the address (LOGIN_FAILURE_THROTTLE_RATE): every attempt takes a
  token before the hash, atomically, so guesses sent in parallel cannot all pass one look, and a
  success gives its token back. Unknown emails count too, so guessing which emails exist costs the
  same.
A success clears neither: an attacker who knows one account's password (their own) could otherwise
sign in between guesses to reset their count, and each sign-in of an owner would hand whoever
guesses at that account a fresh allowance. Both refill by themselves; the failures one every window
/ count seconds (45 s at 20 per 15 minutes), so the owner is not locked out for long.

Rates are read from settings on each request, so they can be set per environment and changed in tests.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from rest_framework.permissions import SAFE_METHODS

from accounts.selectors import normalize_email
from courseproject.rates import Limit, parse_rate
from courseproject.throttling import BucketThrottle, use_bucket

LOGIN_ADDRESS_SCOPE = "login-address"
LOGIN_FAILURE_SCOPE = "login-failures"


def email_digest(email: object) -> str:
    """Per-account buckets are named by a digest of the normalized email, known or not: no email is
    kept in Redis, and an unknown one is throttled like a real one."""
    return hashlib.blake2b(normalize_email(str(email or "")).encode(), digest_size=16).hexdigest()


def _email_in(request: Any) -> str:
    return str(request.data.get("email") or "") if isinstance(request.data, dict) else ""


def _login_address_limit() -> Limit:
    return parse_rate(settings.LOGIN_ADDRESS_THROTTLE_RATE)


def _login_failure_limit() -> Limit:
    return parse_rate(settings.LOGIN_FAILURE_THROTTLE_RATE)


class LoginAddressRateThrottle(BucketThrottle):
    """Sign-in attempts per client address, whatever the email."""

    scope = LOGIN_ADDRESS_SCOPE

    def bucket(self, request: Any, view: Any) -> tuple[str, Limit]:
        return self.get_ident(request), _login_address_limit()


class LoginFailureRateThrottle(BucketThrottle):
    """Refuses before the password hash when the account has failed too often lately, whatever the
    address: takes a token per attempt; the login view gives it back on success (refund_login_attempt)."""

    scope = LOGIN_FAILURE_SCOPE

    def bucket(self, request: Any, view: Any) -> tuple[str, Limit]:
        return email_digest(_email_in(request)), _login_failure_limit()


def refund_login_attempt(*, email: str) -> None:
    """A sign-in (or password check) succeeded: its attempt was no failure."""
    use_bucket(LOGIN_FAILURE_SCOPE, email_digest(email), _login_failure_limit(), mode="refund")


def take_password_attempt(*, email: str) -> float:
    """The per-account failure limit alone, for a password checked outside sign-in (a password
    change): seconds to wait, or 0 with an attempt taken (refund it on success)."""
    return use_bucket(LOGIN_FAILURE_SCOPE, email_digest(email), _login_failure_limit())


def login_wait_seconds(*, client_address: str, email: str) -> float:
    """Both sign-in limits, for a sign-in outside DRF (the admin's login form): seconds to wait, or
    0 with an attempt taken from each (refund the account's on success)."""
    address_wait = use_bucket(LOGIN_ADDRESS_SCOPE, client_address, _login_address_limit())
    if address_wait:
        return address_wait
    return take_password_attempt(email=email)


class RegisterRateThrottle(BucketThrottle):
    """Against mass account creation: registrations per client address."""

    scope = "register"

    def bucket(self, request: Any, view: Any) -> tuple[str, Limit]:
        return self.get_ident(request), parse_rate(settings.REGISTER_THROTTLE_RATE)


class PasswordResetRateThrottle(BucketThrottle):
    """Reset emails per account (the normalized email asked for, known or not), so nobody can flood
    a mailbox or the email sender."""

    scope = "password-reset"

    def bucket(self, request: Any, view: Any) -> tuple[str, Limit]:
        return email_digest(_email_in(request)), parse_rate(settings.PASSWORD_RESET_THROTTLE_RATE)


class VerificationEmailRateThrottle(BucketThrottle):
    """Verification emails asked for again, per account, at the reset emails' rate: an address that was
    never verified may be someone else's, whose mailbox must not be flooded."""

    scope = "verification-email"

    def bucket(self, request: Any, view: Any) -> tuple[str, Limit] | None:
        if not request.user:
            return None
        return request.user.user_id, parse_rate(settings.PASSWORD_RESET_THROTTLE_RATE)


class WriteRateThrottle(BucketThrottle):
    """Writes per signed-in user (enroll, drop, waitlist joins and leaves, course writes), so that
    nobody loops enroll and drop on a popular course; staff (instructors, admins) have a higher
    tier. Reads pass untouched."""

    scope = "writes"

    def bucket(self, request: Any, view: Any) -> tuple[str, Limit] | None:
        if request.method in SAFE_METHODS or not request.user:
            return None
        if request.user.is_student:
            limit = parse_rate(settings.WRITE_THROTTLE_RATE, burst=settings.WRITE_THROTTLE_BURST)
        else:
            limit = parse_rate(settings.STAFF_WRITE_THROTTLE_RATE, burst=settings.STAFF_WRITE_THROTTLE_BURST)
        return request.user.user_id, limit
