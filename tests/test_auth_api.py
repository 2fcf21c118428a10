"""POST /api/auth/register, /login, /refresh and GET, PATCH /api/auth/me."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from accounts.models import Role, User, UserEmail
from tests.conftest import TEST_PASSWORD, unique_email


def register(client: APIClient, **body: object):
    return client.post("/api/auth/register", body, format="json")


def login(client: APIClient, email: str, password: str = TEST_PASSWORD):
    return client.post("/api/auth/login", {"email": email, "password": password}, format="json")


class TestRegister:
    def test_registration_creates_a_student(self, anonymous):
        email = unique_email()
        response = register(anonymous, email=email, password=TEST_PASSWORD, name="Ada Lovelace")
        assert response.status_code == 201
        body = response.json()
        assert body["email"] == email
        assert body["role"] == "student"
        assert set(body) == {"user_id", "email", "name", "role", "email_verified", "created_at"}

    def test_self_registration_cannot_choose_a_role(self, anonymous):
        response = register(anonymous, email=unique_email(), password=TEST_PASSWORD, name="Eve", role="admin")
        assert response.status_code == 201
        assert response.json()["role"] == "student"

    def test_an_email_is_taken_whatever_its_case(self, anonymous):
        email = unique_email()
        assert register(anonymous, email=email, password=TEST_PASSWORD, name="First").status_code == 201
        response = register(anonymous, email=email.upper(), password=TEST_PASSWORD, name="Second")
        assert response.status_code == 409
        assert response.json()["code"] == "email_taken"

    def test_concurrent_registrations_of_one_email_create_one_user(self):
        email = unique_email()

        def attempt(number: int):
            return register(APIClient(), email=email, password=TEST_PASSWORD, name=f"Racer {number}")

        with ThreadPoolExecutor(max_workers=20) as pool:
            responses = list(pool.map(attempt, range(20)))
        statuses = [response.status_code for response in responses]
        assert statuses.count(201) == 1
        assert statuses.count(409) == 19
        # The email's one claim names the one user created (both are written in one transaction).
        [created] = [response.json() for response in responses if response.status_code == 201]
        assert UserEmail.get(email, consistent_read=True).user_id == created["user_id"]

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"password": TEST_PASSWORD, "name": "No Email"}, "email"),
            ({"email": "not-an-email", "password": TEST_PASSWORD, "name": "X"}, "email"),
            ({"email": ["a@b.c"], "password": TEST_PASSWORD, "name": "X"}, "email"),
            ({"email": "a" * 250 + "@b.edu", "password": TEST_PASSWORD, "name": "X"}, "email"),
            ({"email": "{email}", "name": "No Password"}, "password"),
            ({"email": "{email}", "password": "short", "name": "X"}, "password"),
            ({"email": "{email}", "password": "12345678901", "name": "X"}, "password"),
            ({"email": "{email}", "password": "password123", "name": "X"}, "password"),
            ({"email": "{email}", "password": "x" * 129, "name": "X"}, "password"),
            ({"email": "{email}", "password": 12345678, "name": "X"}, "password"),
            ({"email": "{email}", "password": TEST_PASSWORD}, "name"),
            ({"email": "{email}", "password": TEST_PASSWORD, "name": ""}, "name"),
            ({"email": "{email}", "password": TEST_PASSWORD, "name": "n" * 101}, "name"),
            ({"email": "{email}", "password": TEST_PASSWORD, "name": {"first": "A"}}, "name"),
            ({"email": "{email}", "password": TEST_PASSWORD, "name": "bell\u0007"}, "name"),
            ({"email": "{email}", "password": TEST_PASSWORD, "name": "nul\u0000"}, "name"),
        ],
    )
    def test_bad_registration_input_is_a_field_error(self, anonymous, body, field):
        body = {key: unique_email() if value == "{email}" else value for key, value in body.items()}
        response = register(anonymous, **body)
        assert response.status_code == 400
        assert field in response.json()


class TestLogin:
    def test_login_returns_tokens_and_the_user(self, anonymous, student):
        response = login(anonymous, student.user.email)
        assert response.status_code == 200
        body = response.json()
        assert body["user"]["user_id"] == student.user_id
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
        assert client.get("/api/auth/me").json()["email"] == student.user.email

    def test_login_email_is_case_insensitive(self, anonymous, student):
        assert login(anonymous, f"  {student.user.email.upper()} ").status_code == 200

    @pytest.mark.parametrize("password", ["wrong-password", "", TEST_PASSWORD.upper()])
    def test_wrong_password_is_invalid_credentials(self, anonymous, student, password):
        response = login(anonymous, student.user.email, password)
        assert response.status_code in {400, 401}
        if response.status_code == 401:
            assert response.json() == {"detail": "Email or password is incorrect.", "code": "invalid_credentials"}

    def test_unknown_email_gets_the_same_answer_as_a_wrong_password(self, anonymous):
        response = login(anonymous, unique_email())
        assert response.status_code == 401
        assert response.json()["code"] == "invalid_credentials"

    def test_a_deactivated_user_cannot_log_in(self, anonymous, student):
        student.user.update(actions=[User.is_active.set(False)])
        assert login(anonymous, student.user.email).status_code == 401

    def test_registration_is_throttled_per_client(self, anonymous, settings):
        settings.REGISTER_THROTTLE_RATE = "2/hour"
        statuses = [
            register(anonymous, email=unique_email(), password=TEST_PASSWORD, name="Bulk").status_code for _ in range(3)
        ]
        assert statuses == [201, 201, 429]


class TestRefresh:
    def test_refresh_gives_a_working_access_token(self, anonymous, student):
        tokens = login(anonymous, student.user.email).json()
        response = anonymous.post("/api/auth/refresh", {"refresh": tokens["refresh"]}, format="json")
        assert response.status_code == 200
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
        assert client.get("/api/auth/me").status_code == 200

    def test_an_access_token_cannot_be_used_to_refresh(self, anonymous, student):
        tokens = login(anonymous, student.user.email).json()
        response = anonymous.post("/api/auth/refresh", {"refresh": tokens["access"]}, format="json")
        assert response.status_code == 401
        assert response.json()["code"] == "token_invalid"

    def test_an_expired_refresh_token_is_refused(self, anonymous, student):
        past = datetime.now(UTC) - timedelta(days=30)
        expired = jwt.encode(
            {
                "iss": settings.JWT_ISSUER,
                "sub": student.user_id,
                "role": "student",
                "type": "refresh",
                "ver": 0,
                "sid": "an-old-sign-in",
                "jti": "an-old-token",
                "iat": past,
                "exp": past + timedelta(days=7),
            },
            settings.JWT_SIGNING_KEY,
            algorithm="HS256",
        )
        response = anonymous.post("/api/auth/refresh", {"refresh": expired}, format="json")
        assert response.status_code == 401
        assert response.json()["code"] == "token_expired"

    def test_refresh_of_a_deactivated_user_is_refused(self, anonymous, student):
        tokens = login(anonymous, student.user.email).json()
        student.user.update(actions=[User.is_active.set(False)])
        response = anonymous.post("/api/auth/refresh", {"refresh": tokens["refresh"]}, format="json")
        assert response.status_code == 401

    @pytest.mark.parametrize("refresh", ["", "garbage", "a.b.c", None, 42])
    def test_malformed_refresh_input(self, anonymous, refresh):
        response = anonymous.post("/api/auth/refresh", {"refresh": refresh}, format="json")
        assert response.status_code in {400, 401}


class TestMe:
    def test_me_shows_the_profile(self, student):
        response = student.client.get("/api/auth/me")
        assert response.status_code == 200
        assert response.json()["user_id"] == student.user_id

    def test_patch_changes_the_name_only(self, student):
        response = student.client.patch("/api/auth/me", {"name": "New Name", "role": "admin"}, format="json")
        assert response.status_code == 200
        assert response.json()["name"] == "New Name"
        assert response.json()["role"] == "student"
        assert student.client.get("/api/auth/me").json()["name"] == "New Name"

    def test_patch_with_a_bad_name_is_a_field_error(self, student):
        assert student.client.patch("/api/auth/me", {"name": ""}, format="json").status_code == 400
        assert student.client.patch("/api/auth/me", {}, format="json").status_code == 400

    def test_me_needs_a_token(self, anonymous):
        response = anonymous.get("/api/auth/me")
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")

    @pytest.mark.parametrize(
        "header",
        ["Bearer", "Bearer a b", "Bearer not-a-jwt", "Bearer \u00e9t\u00e9", "Token abc"],
    )
    def test_bad_authorization_headers_are_401(self, anonymous, header):
        anonymous.credentials(HTTP_AUTHORIZATION=header)
        assert anonymous.get("/api/auth/me").status_code == 401

    def test_a_token_signed_with_another_key_is_refused(self, anonymous, student):
        forged = jwt.encode(
            {
                "iss": settings.JWT_ISSUER,
                "sub": student.user_id,
                "role": "admin",
                "type": "access",
                "iat": datetime.now(UTC),
                "exp": datetime.now(UTC) + timedelta(minutes=5),
            },
            "another-signing-key-that-is-long-enough-for-hs256",
            algorithm="HS256",
        )
        anonymous.credentials(HTTP_AUTHORIZATION=f"Bearer {forged}")
        response = anonymous.get("/api/auth/me")
        assert response.status_code == 401
        assert response.json()["code"] == "token_invalid"


class TestCreateUserCommand:
    def test_creates_an_instructor_who_can_log_in(self, anonymous):
        email = unique_email("instructor")
        output = io.StringIO()
        call_command("create_user", email=email, password=TEST_PASSWORD, name="Prof", role="instructor", stdout=output)
        assert "Created instructor" in output.getvalue()
        response = login(anonymous, email)
        assert response.status_code == 200
        assert response.json()["user"]["role"] == Role.INSTRUCTOR

    def test_a_taken_email_is_a_command_error(self, student):
        with pytest.raises(CommandError, match="email_taken"):
            call_command("create_user", email=student.user.email, password=TEST_PASSWORD, name="X", role="admin")

    def test_the_password_on_the_command_line_works_with_a_warning(self):
        errors = io.StringIO()
        call_command("create_user", email=unique_email(), password=TEST_PASSWORD, name="X", stderr=errors)
        assert "--password leaves the password in shell history" in errors.getvalue()

    def test_prompts_for_the_password_twice(self, anonymous, monkeypatch):
        answers = iter([TEST_PASSWORD, TEST_PASSWORD])
        monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
        email, errors = unique_email("admin"), io.StringIO()
        call_command("create_user", email=email, name="Admin", role="admin", stdout=io.StringIO(), stderr=errors)
        assert login(anonymous, email).status_code == 200
        assert errors.getvalue() == ""

    def test_two_different_passwords_at_the_prompt_create_nobody(self, anonymous, monkeypatch):
        answers = iter([TEST_PASSWORD, TEST_PASSWORD + "-typo"])
        monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
        email = unique_email()
        with pytest.raises(CommandError, match="The two passwords differ"):
            call_command("create_user", email=email, name="X")
        assert login(anonymous, email).status_code == 401

    def test_reads_the_password_from_standard_input(self, anonymous):
        email = unique_email()
        call_command("create_user", "--password-stdin", email=email, name="X", stdin=io.StringIO(TEST_PASSWORD + "\n"))
        assert login(anonymous, email).status_code == 200
        with pytest.raises(CommandError, match="read no password"):
            call_command("create_user", "--password-stdin", email=unique_email(), name="X", stdin=io.StringIO(""))
