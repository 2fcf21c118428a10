"""The lean dispatch of the hottest GETs (courseproject/api/lean_reads.py) answers exactly as DRF's:
the same status, body and headers for every outcome (a page, a 304, each kind of refusal, a 404),
with the view's own authentication, permissions and throttles; and anything it is not sure of goes
through DRF whole.

Each case is asked twice: of the product's routes, and of the same views mounted with
`lean_reads=False` under /api/drf/ (this module's urlpatterns)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import path
from rest_framework import viewsets
from rest_framework.permissions import BasePermission
from rest_framework.test import APIClient
from rest_framework.throttling import BaseThrottle

from accounts import services as account_services
from accounts.models import Role
from courseproject.urls import handler400, handler403, handler404, handler500
from courseproject.urls import urlpatterns as product_urlpatterns
from courses.views import CourseViewSet
from enrollments.views import EnrollmentViewSet
from tests.conftest import Person, access_token
from tests.test_sign_ins import bearer, sign_in

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]

pytestmark = pytest.mark.urls(__name__)

LIST_ACTIONS = {"get": "list"}
DETAIL_ACTIONS = {"get": "retrieve", "patch": "partial_update", "delete": "destroy"}


class ClosedToday(BasePermission):
    message = "The catalog is closed today."
    code = "catalog_closed"

    def has_permission(self, request: Any, view: Any) -> bool:
        return False


class NoMoreReads(BaseThrottle):
    def allow_request(self, request: Any, view: Any) -> bool:
        return False

    def wait(self) -> float:
        return 7


class ClosedCourseViewSet(CourseViewSet):
    def get_permissions(self) -> list[BasePermission]:
        return [*super().get_permissions(), ClosedToday()]


class ThrottledCourseViewSet(CourseViewSet):
    throttle_classes = [NoMoreReads]


def _both_ways(prefix: str, viewset: type[CourseViewSet]) -> list:
    return [
        path(f"api/{prefix}courses", viewset.as_view(LIST_ACTIONS)),
        path(f"api/{prefix}courses/<id:course_id>", viewset.as_view(DETAIL_ACTIONS)),
        path(f"api/drf/{prefix}courses", viewset.as_view(LIST_ACTIONS, lean_reads=False)),
        path(f"api/drf/{prefix}courses/<id:course_id>", viewset.as_view(DETAIL_ACTIONS, lean_reads=False)),
    ]


urlpatterns = [
    *_both_ways("closed/", ClosedCourseViewSet),
    *_both_ways("throttled/", ThrottledCourseViewSet),
    *_both_ways("", CourseViewSet),
    path("api/enrollments/me", EnrollmentViewSet.as_view({"get": "me"})),
    path("api/drf/enrollments/me", EnrollmentViewSet.as_view({"get": "me"}, lean_reads=False)),
    *product_urlpatterns,
]

# Differs on every request by design.
PER_REQUEST_HEADERS = {"X-Request-Id"}


def _answer(client: APIClient, url: str, **headers: str) -> tuple[int, bytes, dict[str, str]]:
    response = client.get(url, headers=headers)
    kept = {name: value for name, value in response.headers.items() if name not in PER_REQUEST_HEADERS}
    return response.status_code, response.content, kept


def assert_answered_alike(client: APIClient, url: str, **headers: str) -> tuple[int, bytes, dict[str, str]]:
    """The lean route's answer, after checking that DRF's route gives the same, asked lean second so
    that both read what the first one cached."""
    drf = _answer(client, url.replace("/api/", "/api/drf/", 1), **headers)
    lean = _answer(client, url, **headers)
    assert lean == drf
    return lean


@pytest.fixture
def drf_requests(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The paths of the requests that built a DRF Request, which the lean path does only for an error."""
    built: list[str] = []
    initialize_request = viewsets.ViewSetMixin.initialize_request

    def counting(view: viewsets.ViewSetMixin, request: Any, *args: Any, **kwargs: Any) -> Any:
        built.append(request.path)
        return initialize_request(view, request, *args, **kwargs)

    monkeypatch.setattr(viewsets.ViewSetMixin, "initialize_request", counting)
    yield built


@pytest.fixture
def course(make_course):
    return make_course()


def list_url(course, **extra: str) -> str:
    query = "&".join(f"{name}={value}" for name, value in {"semester_id": course.semester_id, **extra}.items())
    return f"/api/courses?{query}"


class TestSameAnswers:
    def test_a_semester_page(self, student: Person, course):
        status, body, headers = assert_answered_alike(student.client, list_url(course))
        assert status == 200 and course.course_id.encode() in body
        assert {"ETag", "Cache-Control", "Allow"} <= headers.keys()

    def test_a_department_page_with_a_limit(self, student: Person, course):
        url = list_url(course, department_id=course.department_id, limit=5)
        assert assert_answered_alike(student.client, url)[0] == 200

    def test_a_course(self, student: Person, course):
        assert assert_answered_alike(student.client, f"/api/courses/{course.course_id}")[0] == 200

    @pytest.mark.parametrize("where", ["list", "detail"])
    def test_not_modified(self, student: Person, course, where):
        url = list_url(course) if where == "list" else f"/api/courses/{course.course_id}"
        etag = student.client.get(url)["ETag"]
        status, body, headers = assert_answered_alike(student.client, url, **{"If-None-Match": etag})
        assert (status, body, headers["ETag"]) == (304, b"", etag)

    def test_my_enrollments(self, student: Person, course):
        enroll = student.client.post("/api/enrollments", {"course_id": course.course_id}, format="json")
        assert enroll.status_code == 201
        status, body, headers = assert_answered_alike(student.client, "/api/enrollments/me")
        assert (status, course.course_id.encode() in body, headers["Cache-Control"]) == (200, True, "no-store")
        etag = headers["ETag"]
        assert assert_answered_alike(student.client, "/api/enrollments/me", **{"If-None-Match": etag})[0] == 304
        assert assert_answered_alike(APIClient(), "/api/enrollments/me")[0] == 401

    def test_an_unknown_course(self, student: Person):
        status, body, _ = assert_answered_alike(student.client, "/api/courses/01JD0000000000000000000000")
        assert (status, b"course_not_found" in body) == (404, True)

    @pytest.mark.parametrize(
        ("authorization", "code"),
        [
            (None, b"not_authenticated"),
            ("Bearer", b"token_invalid"),
            ("Bearer not-a-token", b"token_invalid"),
            ("Bearer \xe9t\xe9", b"token_invalid"),
        ],
    )
    def test_no_or_a_bad_token(self, course, authorization, code):
        client = APIClient()
        if authorization is not None:
            client.credentials(HTTP_AUTHORIZATION=authorization)
        status, body, headers = assert_answered_alike(client, list_url(course))
        assert (status, code in body, headers["WWW-Authenticate"]) == (401, True, 'Bearer realm="api"')

    @pytest.mark.parametrize("where", ["list", "detail"])
    def test_a_token_signed_out_everywhere(self, student: Person, course, where):
        url = list_url(course) if where == "list" else f"/api/courses/{course.course_id}"
        tokens = sign_in(student)
        assert bearer(tokens["access"]).get(url).status_code == 200
        assert bearer(tokens["access"]).post("/api/auth/logout", {"all": True}, format="json").status_code == 204
        status, body, _ = assert_answered_alike(bearer(tokens["access"]), url)
        assert (status, b"token_revoked" in body) == (401, True)

    def test_a_deactivated_user(self, student: Person, admin: Person, course):
        client = bearer(access_token(student.user))
        account_services.change_user(
            actor=admin.actor, user_id=student.user_id, name="Gone", role=Role.STUDENT, is_active=False
        )
        status, body, _ = assert_answered_alike(client, list_url(course))
        assert (status, b"token_revoked" in body) == (401, True)

    def test_the_views_own_permissions(self, student: Person, course):
        status, body, _ = assert_answered_alike(student.client, f"/api/closed/courses/{course.course_id}")
        assert (status, body) == (403, b'{"detail":"The catalog is closed today.","code":"catalog_closed"}')
        # Nobody signed in: 401, as DRF answers a refusal when no authenticator answered.
        status, _, headers = assert_answered_alike(APIClient(), f"/api/closed/courses/{course.course_id}")
        assert (status, headers["WWW-Authenticate"]) == (401, 'Bearer realm="api"')

    def test_the_views_own_throttles(self, student: Person, course):
        status, body, headers = assert_answered_alike(student.client, f"/api/throttled/courses/{course.course_id}")
        assert (status, headers["Retry-After"], b"throttled" in body) == (429, "7", True)


class TestWhichPath:
    def test_the_usual_reads_build_no_drf_request(self, student: Person, course, drf_requests):
        for accept in (None, "*/*", "application/json"):
            headers = {} if accept is None else {"Accept": accept}
            assert student.client.get(list_url(course), headers=headers).status_code == 200
            assert student.client.get(f"/api/courses/{course.course_id}", headers=headers).status_code == 200
            assert student.client.get("/api/enrollments/me", headers=headers).status_code == 200
        assert drf_requests == []

    def test_a_refusal_is_answered_by_drf(self, course, drf_requests):
        assert APIClient().get(list_url(course)).status_code == 401
        assert drf_requests == ["/api/courses"]

    @pytest.mark.parametrize(
        "case",
        [
            ("head", "/api/courses/{course_id}", {}, 200),
            ("get", "/api/courses/{course_id}", {"Accept": "text/html"}, 406),
            ("get", "/api/courses/{course_id}", {"Accept": "application/json; charset=utf-8"}, 200),
            ("get", "/api/courses/{course_id}?format=json", {}, 200),
            ("get", "/api/courses/{course_id}?%66ormat=json", {}, 200),
            ("get", "/api/courses?semester_id={semester_id}&format=json", {}, 200),
            ("get", "/api/courses?format=json&semester_id={semester_id}", {}, 200),
            ("get", "/api/courses?semester_id={semester_id}&semester_id={semester_id}", {}, 200),
            ("get", "/api/courses?semester%5Fid={semester_id}", {}, 200),
            ("get", "/api/courses?semester_id={semester_id}&cursor=x", {}, 400),
            ("get", "/api/courses?semester_id=0{semester_id}", {}, 200),
            ("get", "/api/courses?instructor_id={instructor_id}", {}, 200),
            ("get", "/api/drf/courses?semester_id={semester_id}", {}, 200),
            ("get", "/api/enrollments/me?limit=5", {}, 200),
            ("get", "/api/enrollments/me?&", {}, 200),
            ("get", "/api/enrollments/me?status=nonsense", {}, 400),
        ],
    )
    def test_anything_unusual_goes_through_drf(self, student: Person, course, drf_requests, case):
        method, url, headers, status = case
        url = url.format(course_id=course.course_id, semester_id=course.semester_id, instructor_id=course.instructor_id)
        assert getattr(student.client, method)(url, headers=headers).status_code == status
        assert drf_requests == [url.split("?")[0]]

    def test_a_sign_in_forced_by_drfs_test_client_goes_through_drf(self, student: Person, course, drf_requests):
        client = APIClient()
        client.force_authenticate(user=student.actor)
        assert client.get(list_url(course)).status_code == 200
        assert drf_requests == ["/api/courses"]
