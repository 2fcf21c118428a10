"""Revocable sign-ins: token versions, rotating refresh tokens, sign-out one or everywhere."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import jwt
import pytest
from django.conf import settings
from django.test import override_settings
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.models import Role, SignIn
from tests.conftest import TEST_PASSWORD, Person, course_list
from tests.test_background import audit_trail


def sign_in(person: Person) -> dict:
    response = APIClient().post(
        "/api/auth/login", {"email": person.user.email, "password": TEST_PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def refresh(token: str):
    return APIClient().post("/api/auth/refresh", {"refresh": token}, format="json")


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def me(access: str) -> int:
    return bearer(access).get("/api/auth/me").status_code


class TestTokenVersion:
    def test_a_demoted_admin_is_refused_at_the_next_request(self, make_person, admin):
        other_admin = make_person(Role.ADMIN)
        tokens = sign_in(other_admin)
        # An admin-only write: an empty body is the admin's 400, anyone else's 403.
        assert bearer(tokens["access"]).post("/api/semesters", {}, format="json").status_code == 400
        account_services.change_user(
            actor=admin.actor, user_id=other_admin.user_id, name="Demoted", role=Role.STUDENT, is_active=True
        )
        response = bearer(tokens["access"]).post("/api/semesters", {}, format="json")
        assert response.status_code == 401
        assert response.json()["code"] == "token_revoked"
        assert refresh(tokens["refresh"]).json()["code"] == "token_revoked"
        # Signing in again gives a student's tokens.
        assert bearer(sign_in(other_admin)["access"]).post("/api/semesters", {}, format="json").status_code == 403

    def test_a_deactivated_user_is_refused_at_the_next_request(self, student, admin):
        tokens = sign_in(student)
        account_services.change_user(
            actor=admin.actor, user_id=student.user_id, name="Gone", role=Role.STUDENT, is_active=False
        )
        assert me(tokens["access"]) == 401

    def test_a_name_change_ends_no_sign_in(self, student, admin):
        tokens = sign_in(student)
        account_services.change_user(
            actor=admin.actor, user_id=student.user_id, name="Renamed", role=Role.STUDENT, is_active=True
        )
        assert me(tokens["access"]) == 200

    def test_a_cached_read_refuses_a_revoked_token(self, student, make_course):
        course = make_course()
        tokens = sign_in(student)
        client = bearer(tokens["access"])
        for url in (f"/api/courses/{course.course_id}", f"/api/courses?semester_id={course.semester_id}"):
            assert client.get(url).status_code == 200
        bearer(tokens["access"]).post("/api/auth/logout", {"all": True}, format="json")
        for url in (f"/api/courses/{course.course_id}", f"/api/courses?semester_id={course.semester_id}"):
            response = client.get(url)
            assert (response.status_code, response.json()["code"]) == (401, "token_revoked")
            assert response["WWW-Authenticate"].startswith("Bearer")

    def test_a_read_that_touches_no_cache_still_checks_the_token(self, student, make_course):
        course = make_course()
        tokens = sign_in(student)
        roster = f"/api/courses/{course.course_id}/enrollments"
        assert bearer(tokens["access"]).get(roster).status_code == 403  # refused before any cached read
        bearer(tokens["access"]).post("/api/auth/logout", {"all": True}, format="json")
        response = bearer(tokens["access"]).get(roster)
        assert (response.status_code, response.json()["code"]) == (401, "token_revoked")

    def test_a_cached_read_checks_the_version_without_dynamodb(self, student, make_course, dynamodb_calls):
        course = make_course()
        tokens = sign_in(student)
        client = bearer(tokens["access"])
        client.get(f"/api/courses/{course.course_id}")
        course_list(student, course.semester_id)
        dynamodb_calls.clear()
        assert client.get(f"/api/courses/{course.course_id}").status_code == 200
        if settings.CACHE_ENABLED:
            assert dynamodb_calls.operations == []
        else:
            assert "GetItem" in dynamodb_calls.operations  # the user, read consistently


class TestRefreshRotation:
    def test_refresh_answers_a_new_pair_and_the_new_refresh_token_works(self, student):
        tokens = sign_in(student)
        first = refresh(tokens["refresh"])
        assert first.status_code == 200
        assert set(first.json()) == {"access", "refresh"}
        assert first.json()["refresh"] != tokens["refresh"]
        second = refresh(first.json()["refresh"])
        assert second.status_code == 200
        assert me(second.json()["access"]) == 200

    @override_settings(REFRESH_REUSE_GRACE_SECONDS=0)
    def test_a_reused_refresh_token_revokes_every_sign_in_of_the_user(self, student):
        stolen = sign_in(student)
        other_device = sign_in(student)
        assert refresh(stolen["refresh"]).status_code == 200  # the owner refreshes
        reuse = refresh(stolen["refresh"])  # the thief replays the old token
        assert reuse.status_code == 401
        assert reuse.json()["code"] == "token_reused"
        assert me(stolen["access"]) == 401
        assert me(other_device["access"]) == 401
        assert refresh(other_device["refresh"]).status_code == 401
        assert "refresh_token_reused" in {record.action for record in audit_trail("user", student.user_id)}
        assert me(sign_in(student)["access"]) == 200

    def test_two_tabs_refreshing_at_once_both_stay_signed_in(self, student):
        tokens = sign_in(student)
        with ThreadPoolExecutor(max_workers=2) as pool:
            responses = list(pool.map(lambda _: refresh(tokens["refresh"]), range(2)))
        assert [response.status_code for response in responses] == [200, 200]
        # Both were handed the one current refresh token's id, so either tab can go on refreshing.
        assert claims(responses[0].json()["refresh"])["jti"] == claims(responses[1].json()["refresh"])["jti"]
        assert refresh(responses[1].json()["refresh"]).status_code == 200
        assert me(responses[0].json()["access"]) == 200

    def test_a_token_replayed_after_the_grace_period_is_a_reuse(self, student):
        tokens = sign_in(student)
        assert refresh(tokens["refresh"]).status_code == 200
        with override_settings(REFRESH_REUSE_GRACE_SECONDS=0):
            assert refresh(tokens["refresh"]).json()["code"] == "token_reused"

    def test_an_access_token_is_no_refresh_token(self, student):
        tokens = sign_in(student)
        assert refresh(tokens["access"]).status_code == 401
        assert bearer(tokens["refresh"]).get("/api/auth/me").status_code == 401


class TestSignOut:
    def test_signing_out_ends_the_refresh_token_and_leaves_the_access_token_until_it_expires(self, student):
        tokens = sign_in(student)
        other = sign_in(student)
        response = bearer(tokens["access"]).post("/api/auth/logout", {"refresh": tokens["refresh"]}, format="json")
        assert response.status_code == 204
        assert refresh(tokens["refresh"]).json()["code"] == "token_revoked"
        assert me(tokens["access"]) == 200  # valid until JWT_ACCESS_LIFETIME_SECONDS
        assert refresh(other["refresh"]).status_code == 200  # the other device stays signed in
        ended = SignIn.get(claims(tokens["refresh"])["sid"], consistent_read=True)
        assert ended.kind == "api" and ended.revoked_at is not None

    def test_signing_out_everywhere_ends_every_token_at_once(self, student):
        tokens = sign_in(student)
        other = sign_in(student)
        response = bearer(tokens["access"]).post("/api/auth/logout", {"all": True}, format="json")
        assert response.status_code == 204
        for pair in (tokens, other):
            assert me(pair["access"]) == 401
            assert refresh(pair["refresh"]).status_code == 401

    def test_signing_out_everywhere_with_only_a_refresh_token(self, student):
        tokens = sign_in(student)
        response = APIClient().post("/api/auth/logout", {"refresh": tokens["refresh"], "all": True}, format="json")
        assert response.status_code == 204
        assert me(tokens["access"]) == 401

    def test_someone_elses_refresh_token_is_refused(self, student, make_person):
        mine, theirs = sign_in(student), sign_in(make_person(Role.STUDENT))
        response = bearer(mine["access"]).post("/api/auth/logout", {"refresh": theirs["refresh"]}, format="json")
        assert response.status_code == 401
        assert refresh(theirs["refresh"]).status_code == 200

    @pytest.mark.parametrize("body", [{}, {"all": False}, {"refresh": ""}, {"all": "yes please"}])
    def test_a_sign_out_that_names_nothing_is_a_400(self, student, body):
        assert bearer(sign_in(student)["access"]).post("/api/auth/logout", body, format="json").status_code == 400

    def test_signing_out_everywhere_needs_a_sign_in(self, anonymous):
        response = anonymous.post("/api/auth/logout", {"all": True}, format="json")
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"


class TestAudit:
    def test_sign_ins_and_failures_are_audited_with_the_client_address(self, student, anonymous):
        sign_in(student)
        anonymous.post("/api/auth/login", {"email": student.user.email, "password": "wrong-password"}, format="json")
        records = {record.action: record for record in audit_trail("user", student.user_id)}
        assert records["signed_in"].after["client_address"] == "127.0.0.1"
        assert records["signed_in"].actor_id == student.user_id
        assert records["sign_in_failed"].actor_id == "address:127.0.0.1"

    def test_a_failed_sign_in_with_an_unknown_email_is_audited_under_that_email(self, anonymous):
        anonymous.post("/api/auth/login", {"email": "Nobody@Example.edu", "password": "x"}, format="json")
        [record] = audit_trail("email", "nobody@example.edu")
        assert record.action == "sign_in_failed"

    def test_a_role_change_is_audited_with_the_roles_before_and_after(self, student, admin):
        account_services.change_user(
            actor=admin.actor, user_id=student.user_id, name="Promoted", role=Role.INSTRUCTOR, is_active=True
        )
        [record] = [record for record in audit_trail("user", student.user_id) if record.action == "updated"]
        assert (record.before["role"], record.after["role"], record.actor_id) == (
            "student",
            "instructor",
            admin.user_id,
        )
        assert record.after["token_version"] == record.before["token_version"] + 1


def test_an_expired_access_token_does_not_stop_a_sign_out(student):
    tokens = sign_in(student)
    with override_settings(JWT_ACCESS_LIFETIME_SECONDS=-1):
        expired = sign_in(student)["access"]
    assert me(expired) == 401
    response = bearer(expired).post("/api/auth/logout", {"refresh": tokens["refresh"]}, format="json")
    assert response.status_code == 204
    assert refresh(tokens["refresh"]).json()["code"] == "token_revoked"


def test_a_sign_in_ends_after_the_refresh_lifetime_however_often_it_rotates(student):
    with override_settings(JWT_REFRESH_LIFETIME_SECONDS=2):
        tokens = sign_in(student)
    token = refresh(tokens["refresh"]).json()["refresh"]
    assert claims(token)["exp"] <= claims(tokens["refresh"])["exp"]  # rotation never extends the sign-in
    time.sleep(2.1)
    assert refresh(token).status_code == 401


def test_a_password_typed_into_the_email_field_is_not_kept_in_the_audit_log(anonymous):
    anonymous.post("/api/auth/login", {"email": "correct horse battery", "password": "x"}, format="json")
    assert audit_trail("email", "correct horse battery") == []
    assert all("correct horse" not in str(record.after) for record in audit_trail("email", "(not an email address)"))
