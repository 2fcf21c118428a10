"""Admin sessions end server-side: on sign-out (a copied cookie stops working too), and when the
user's sign-ins are revoked through the API. Sign-ins are audited; cookies stay on this site."""

from __future__ import annotations

from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Role
from tests.admin.helpers import COURSES, signed_in
from tests.conftest import TEST_PASSWORD, Person
from tests.test_background import audit_trail
from tests.test_sign_ins import bearer, sign_in


def copy_of(client: Client) -> Client:
    copy = Client()
    copy.cookies = client.cookies.__class__(client.cookies)
    return copy


def test_signing_out_ends_the_session_for_a_copied_cookie_too(admin: Person):
    client = signed_in(admin)
    stolen = copy_of(client)
    assert stolen.get(COURSES).status_code == 200
    assert client.post("/admin/logout/").status_code == 200
    assert stolen.get(COURSES).status_code == 302


def test_signing_out_everywhere_through_the_api_ends_admin_sessions(make_person):
    admin = make_person(Role.ADMIN)
    client = signed_in(admin)
    tokens = sign_in(admin)
    assert bearer(tokens["access"]).post("/api/auth/logout", {"all": True}, format="json").status_code == 204
    assert client.get(COURSES).status_code == 302


def test_a_password_change_through_the_api_ends_admin_sessions(make_person):
    admin = make_person(Role.ADMIN)
    client = signed_in(admin)
    response = bearer(sign_in(admin)["access"]).post(
        "/api/auth/password",
        {"current_password": TEST_PASSWORD, "new_password": "a-brand-new-passphrase"},
        format="json",
    )
    assert response.status_code == 200
    assert client.get(COURSES).status_code == 302


def test_session_and_csrf_cookies_are_same_site_strict(admin: Person):
    client = Client()
    client.get("/admin/login/")
    response = client.post("/admin/login/", {"username": admin.user.email, "password": TEST_PASSWORD})
    assert response.status_code == 302
    for name in ("admin_session", "csrftoken"):
        assert response.cookies[name]["samesite"] == "Strict", name


def test_admin_sign_ins_and_failures_are_audited(admin: Person):
    signed_in(admin)
    Client().post("/admin/login/", {"username": admin.user.email, "password": "not-the-password"})
    records = [(record.action, (record.after or {}).get("channel")) for record in audit_trail("user", admin.user_id)]
    assert ("signed_in", "admin") in records
    assert ("sign_in_failed", "admin") in records


def test_roster_exports_are_audited(admin: Person, make_course, student: Person):
    course = make_course()
    student.client.post("/api/enrollments", {"course_id": course.course_id}, format="json")
    response = signed_in(admin).get(f"/admin/courses/course/{course.course_id}/roster.csv")
    assert response.status_code == 200, response
    b"".join(response.streaming_content)
    [record] = [record for record in audit_trail("course", course.course_id) if record.action == "roster_exported"]
    assert record.actor_id == admin.user_id


def test_api_clients_get_no_admin_cookie():
    assert "admin_session" not in APIClient().get("/api/health").cookies
