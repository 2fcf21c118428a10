"""Signing in to the admin: who may, how attempts are throttled, how access ends, and what an
admin page answers when DynamoDB is down."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from accounts.models import Role
from courseproject.dynamo.client import reset_dynamodb_client
from tests.admin.helpers import AUDIT, COURSES, ENROLLMENTS, USERS, signed_in, text
from tests.conftest import TEST_PASSWORD


class TestSignIn:
    def test_an_admin_signs_in_and_sees_every_section(self, admin):
        client = Client()
        login_page = client.get("/admin/login/?next=/admin/")
        assert login_page.status_code == 200
        assert 'name="username"' in text(login_page)

        response = client.post("/admin/login/?next=/admin/", {"username": admin.user.email, "password": TEST_PASSWORD})
        assert response.status_code == 302
        assert response["Location"] == "/admin/"
        index = client.get("/admin/")
        assert index.status_code == 200
        for link in (COURSES, ENROLLMENTS, USERS, AUDIT, "/admin/courses/course/add/", "/admin/accounts/user/add/"):
            assert f'href="{link}"' in text(index)

    @pytest.mark.parametrize(
        ("app", "section"), [("courses", COURSES), ("enrollments", ENROLLMENTS), ("accounts", USERS), ("audit", AUDIT)]
    )
    def test_each_app_has_its_index(self, admin_client, app, section):
        response = admin_client.get(f"/admin/{app}/")
        assert response.status_code == 200
        assert f'href="{section}"' in text(response)

    @pytest.mark.parametrize("role", [Role.STUDENT, Role.INSTRUCTOR])
    def test_students_and_instructors_cannot_enter(self, make_person, role):
        person = make_person(role)
        client = Client()
        response = client.post("/admin/login/", {"username": person.user.email, "password": TEST_PASSWORD})
        assert response.status_code == 200
        assert "correct email and password for an admin account" in text(response)
        assert client.get(COURSES).status_code == 302

    def test_a_wrong_password_is_refused(self, admin):
        response = Client().post("/admin/login/", {"username": admin.user.email, "password": "not-the-password"})
        assert response.status_code == 200
        assert "correct email and password for an admin account" in text(response)

    def test_failed_sign_ins_of_an_account_are_throttled_from_any_address(self, admin, settings):
        settings.LOGIN_FAILURE_THROTTLE_RATE = "2/min"
        for address in ("10.20.0.1", "10.20.0.2"):
            Client(REMOTE_ADDR=address).post("/admin/login/", {"username": admin.user.email, "password": "guess"})
        client = Client(REMOTE_ADDR="10.20.0.3")
        response = client.post("/admin/login/", {"username": admin.user.email, "password": TEST_PASSWORD})
        assert "Too many sign-in attempts. Try again in 30 seconds." in text(response)
        assert client.get(COURSES).status_code == 302

    def test_sign_in_attempts_from_one_address_are_throttled_whatever_the_email(self, admin, settings):
        settings.LOGIN_ADDRESS_THROTTLE_RATE = "2/min"
        client = Client(REMOTE_ADDR="10.20.1.1")
        for number in range(2):
            client.post("/admin/login/", {"username": f"nobody{number}@example.edu", "password": "guess"})
        response = client.post("/admin/login/", {"username": admin.user.email, "password": TEST_PASSWORD})
        assert "Too many sign-in attempts" in text(response)
        assert client.get(COURSES).status_code == 302

    def test_pages_need_a_signed_in_admin(self):
        response = Client().get(COURSES)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/?next=")

    def test_a_demoted_admin_loses_access_at_once(self, admin, make_person, admin_client):
        other_admin = signed_in(make_person(Role.ADMIN))
        response = other_admin.post(
            f"{USERS}{admin.user_id}/change/", {"name": admin.user.name, "role": "instructor", "is_active": "on"}
        )
        assert response.status_code == 302
        assert admin_client.get(COURSES).status_code == 302

    def test_login_without_a_csrf_token_is_refused(self, admin):
        client = Client(enforce_csrf_checks=True)
        response = client.post("/admin/login/", {"username": admin.user.email, "password": TEST_PASSWORD})
        assert response.status_code == 403

    def test_signing_out_ends_the_session(self, admin_client):
        assert admin_client.post("/admin/logout/").status_code == 200
        assert admin_client.get(COURSES).status_code == 302

    def test_pages_that_need_djangos_user_table_do_not_exist(self, admin_client):
        assert admin_client.get("/admin/password_change/").status_code == 404
        assert admin_client.get("/admin/r/1/1/").status_code == 404

    def test_dynamodb_down_shows_a_503_page(self, admin_client):
        with override_settings(DYNAMODB_ENDPOINT_URL="http://127.0.0.1:9", DYNAMODB_MAX_ATTEMPTS=1):
            reset_dynamodb_client()
            try:
                pages = [
                    admin_client.get(COURSES),
                    Client().post("/admin/login/", {"username": "a@b.edu", "password": "x"}),
                ]
            finally:
                reset_dynamodb_client()
        for response in pages:
            assert response.status_code == 503
            assert "The registration database is not answering" in text(response)

    def test_the_api_never_gets_a_session_cookie(self, admin_client, student):
        response = student.client.get("/api/auth/me")
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers
        assert "Cookie" not in response.headers.get("Vary", "")
