"""Password change and reset, email verification, allowed email domains."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import unquote

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Role, User
from tests.conftest import TEST_PASSWORD, Person, unique_email
from tests.test_background import audit_trail, emails_for
from tests.test_sign_ins import bearer, me, refresh, sign_in

NEW_PASSWORD = "a-brand-new-passphrase"


def link_token(message) -> str:
    return unquote(re.search(r"[?&]token=([^\s&\"]+)", message.body).group(1))


def login_status(email: str, password: str) -> int:
    return APIClient().post("/api/auth/login", {"email": email, "password": password}, format="json").status_code


class TestPasswordChange:
    def change(self, access: str, current: str, new: str):
        return bearer(access).post(
            "/api/auth/password", {"current_password": current, "new_password": new}, format="json"
        )

    def test_a_change_ends_every_sign_in_and_signs_the_caller_in_again(self, student):
        tokens, other = sign_in(student), sign_in(student)
        response = self.change(tokens["access"], TEST_PASSWORD, NEW_PASSWORD)
        assert response.status_code == 200
        assert me(response.json()["access"]) == 200
        for pair in (tokens, other):
            assert me(pair["access"]) == 401
            assert refresh(pair["refresh"]).status_code == 401
        assert login_status(student.user.email, TEST_PASSWORD) == 401
        assert login_status(student.user.email, NEW_PASSWORD) == 200
        assert "password_changed" in {record.action for record in audit_trail("user", student.user_id)}

    def test_a_wrong_current_password_changes_nothing(self, student):
        tokens = sign_in(student)
        response = self.change(tokens["access"], "not-my-password", NEW_PASSWORD)
        assert (response.status_code, response.json()["code"]) == (401, "invalid_credentials")
        assert me(tokens["access"]) == 200

    @pytest.mark.parametrize("weak", ["short", "12345678901", "password123"])
    def test_djangos_password_validators_apply(self, student, weak):
        response = self.change(sign_in(student)["access"], TEST_PASSWORD, weak)
        assert response.status_code == 400
        assert "new_password" in response.json()

    def test_a_password_like_the_email_is_refused(self, make_person):
        person = make_person(Role.STUDENT)
        response = self.change(sign_in(person)["access"], TEST_PASSWORD, person.user.email)
        assert response.status_code == 400


class TestPasswordReset:
    def request_reset(self, email: str):
        return APIClient().post("/api/auth/password-reset", {"email": email}, format="json")

    def confirm(self, token: str, password: str = NEW_PASSWORD):
        return APIClient().post(
            "/api/auth/password-reset/confirm", {"token": token, "new_password": password}, format="json"
        )

    def test_a_reset_link_sets_a_new_password_once_and_ends_every_sign_in(self, student):
        tokens = sign_in(student)
        assert self.request_reset(student.user.email.upper()).status_code == 202
        [message] = emails_for(student.user.email)
        assert "http://" in message.body and "reset-password?token=" in message.body
        token = link_token(message)
        assert self.confirm(token).status_code == 204
        assert me(tokens["access"]) == 401
        assert login_status(student.user.email, NEW_PASSWORD) == 200
        second = self.confirm(token, "yet-another-passphrase")
        assert (second.status_code, second.json()["code"]) == (400, "reset_token_invalid")
        assert login_status(student.user.email, NEW_PASSWORD) == 200
        assert "password_reset" in {record.action for record in audit_trail("user", student.user_id)}

    def test_an_unknown_email_gets_the_same_answer_and_no_email(self):
        email = unique_email()
        response = self.request_reset(email)
        assert response.status_code == 202
        assert emails_for(email) == []

    def test_a_link_expires_after_an_hour(self, student):
        self.request_reset(student.user.email)
        token = link_token(emails_for(student.user.email)[0])
        with time_machine.travel(timezone.now() + timedelta(minutes=61)):
            response = self.confirm(token)
        assert (response.status_code, response.json()["code"]) == (400, "reset_token_expired")

    def test_a_link_made_before_a_password_change_is_dead(self, student):
        self.request_reset(student.user.email)
        token = link_token(emails_for(student.user.email)[0])
        bearer(sign_in(student)["access"]).post(
            "/api/auth/password", {"current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD}, format="json"
        )
        assert self.confirm(token, "yet-another-passphrase").json()["code"] == "reset_token_invalid"

    @pytest.mark.parametrize("token", ["", "x", "a" * 1025, "eyJ1IjoieCJ9:1abc:forged"])
    def test_a_forged_or_malformed_token_is_a_400(self, token):
        assert self.confirm(token).status_code == 400

    def test_a_weak_new_password_leaves_the_link_usable(self, student):
        self.request_reset(student.user.email)
        token = link_token(emails_for(student.user.email)[0])
        assert self.confirm(token, "12345678901").status_code == 400
        assert self.confirm(token).status_code == 204


class TestEmailVerification:
    @pytest.fixture(autouse=True)
    def verification_required(self, settings):
        settings.EMAIL_VERIFICATION_REQUIRED = True

    def register(self, email: str) -> Person:
        """A student who registered through the API, signed in."""
        response = APIClient().post(
            "/api/auth/register", {"email": email, "password": TEST_PASSWORD, "name": "New Student"}, format="json"
        )
        assert response.status_code == 201 and response.json()["email_verified"] is False
        user = User.get(response.json()["user_id"])
        return Person(user=user, client=bearer(sign_in(Person(user=user, client=APIClient()))["access"]))

    def test_a_new_student_enrolls_only_after_confirming_their_email(self, make_course):
        course = make_course()
        email = unique_email("new")
        student = self.register(email)
        refused = student.client.post("/api/enrollments", {"course_id": course.course_id}, format="json")
        assert (refused.status_code, refused.json()["code"]) == (403, "email_unverified")
        # Checked before every other rule: even a course that does not exist.
        missing = student.client.post("/api/enrollments", {"course_id": "no-such-course"}, format="json")
        assert missing.json()["code"] == "email_unverified"

        [message] = emails_for(email)
        verified = APIClient().post("/api/auth/verify-email", {"token": link_token(message)}, format="json")
        assert verified.status_code == 200 and verified.json()["email_verified"] is True
        # The same access token may enroll now: its next request sees the verified entry.
        assert (
            student.client.post("/api/enrollments", {"course_id": course.course_id}, format="json").status_code == 201
        )

    def test_a_student_asks_for_the_email_again(self):
        email = unique_email("again")
        student = self.register(email)
        assert student.client.post("/api/auth/verify-email/resend").status_code == 202
        assert len(emails_for(email)) == 2

    def test_users_an_admin_creates_are_verified(self, make_person, make_course):
        student = make_person(Role.STUDENT)
        course = make_course()
        assert (
            student.client.post("/api/enrollments", {"course_id": course.course_id}, format="json").status_code == 201
        )

    @pytest.mark.parametrize("token", ["", "garbage", "a:b:c"])
    def test_a_bad_token_is_a_400(self, token):
        assert APIClient().post("/api/auth/verify-email", {"token": token}, format="json").status_code == 400


class TestAllowedDomains:
    @override_settings(ALLOWED_EMAIL_DOMAINS=["uni.edu"])
    def test_self_registration_takes_only_the_universitys_domains(self):
        client = APIClient()
        body = {"password": TEST_PASSWORD, "name": "Outsider"}
        refused = client.post("/api/auth/register", {**body, "email": "someone@gmail.com"}, format="json")
        assert refused.status_code == 400
        assert refused.json()["email"]
        accepted = client.post(
            "/api/auth/register", {**body, "email": unique_email().split("@")[0] + "@UNI.edu"}, format="json"
        )
        assert accepted.status_code == 201


def test_guessing_the_current_password_meets_the_sign_in_failure_limit(student, settings):
    settings.LOGIN_FAILURE_THROTTLE_RATE = "3/15min"
    client = bearer(sign_in(student)["access"])
    body = {"current_password": "a-wrong-guess", "new_password": NEW_PASSWORD}
    statuses = [client.post("/api/auth/password", body, format="json").status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    assert login_status(student.user.email, TEST_PASSWORD) == 429  # the account's failures are one count
