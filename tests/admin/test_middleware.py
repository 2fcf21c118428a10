"""The admin's middleware (sessions, CSRF, its sign-in, the campus clock, the outage page, messages)
runs for /admin/ only: an API request never touches a session, even when an admin's cookie comes
along, and the admin keeps all of it."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.test import Client, override_settings

from accounts.admin_sign_in import AdminPrincipal
from courseproject.adminsite.middleware import check_admin_middleware
from tests.admin.helpers import COURSES, messages_of, signed_in
from tests.conftest import Person

ADMIN_ONLY_ATTRIBUTES = ("session", "_messages", "csrf_processing_done")


def test_an_api_request_never_touches_the_session(admin: Person, student: Person, make_course):
    course = make_course()
    admin_browser = signed_in(admin)  # its admin_session cookie goes along with every request below
    admin_browser.defaults["HTTP_AUTHORIZATION"] = student.client._credentials["HTTP_AUTHORIZATION"]
    for url in (f"/api/courses?semester_id={course.semester_id}", f"/api/courses/{course.course_id}", "/api/auth/me"):
        response = admin_browser.get(url)
        assert response.status_code == 200, response.content
        for attribute in ADMIN_ONLY_ATTRIBUTES:
            assert not hasattr(response.wsgi_request, attribute), (url, attribute)
        # request.user is DRF's, from the bearer token, not the admin's session.
        assert response.wsgi_request.user.user_id == student.user_id
        assert "Set-Cookie" not in response.headers
        assert "Cookie" not in response.headers.get("Vary", "")


def test_pages_outside_the_api_and_the_admin_skip_it_too():
    for url in ("/api/health", "/api/schema/", "/api/docs/", "/api/no-such-page", "/metrics"):
        response = Client().get(url)
        assert response.status_code in (200, 404), url
        assert not hasattr(response.wsgi_request, "session"), url
        assert "Set-Cookie" not in response.headers, url


def test_the_admin_keeps_its_session_sign_in_and_messages(admin: Person):
    client = signed_in(admin)
    response = client.get(COURSES)
    assert response.status_code == 200
    assert isinstance(response.wsgi_request.user, AdminPrincipal)
    assert hasattr(response.wsgi_request, "_messages")
    assert response["X-Frame-Options"] == "DENY"
    # A message set by one page is shown on the next: messages ride on the admin's cookies.
    assert client.post(COURSES, {"action": "no-such-action"}).status_code == 302
    assert messages_of(client.get(COURSES)) == ["No action selected."]
    assert isinstance(Client().get("/admin/login/").wsgi_request.user, AnonymousUser)


def test_the_admin_refuses_a_post_without_its_csrf_token(admin: Person):
    response = Client(enforce_csrf_checks=True).post("/admin/logout/")
    assert response.status_code == 403


def test_djangos_checks_of_the_admin_middleware_look_at_the_admin_chain():
    assert check_admin_middleware() == []
    without_sessions = [path for path in settings.ADMIN_MIDDLEWARE if "sessions" not in path]
    with override_settings(ADMIN_MIDDLEWARE=without_sessions):
        assert [message.id for message in check_admin_middleware()] == ["registration_admin.E002"]
    lean = [path for path in settings.MIDDLEWARE if "AdminOnly" not in path]
    with override_settings(MIDDLEWARE=lean):
        assert [message.id for message in check_admin_middleware()] == ["registration_admin.E001"]
