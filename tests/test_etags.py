"""HTTP caching for clients: every cached read carries an ETag of its exact body and answers a
matching If-None-Match with 304 and no body; a change of the answer (a seat taken) changes the tag;
the token is checked before any 304; errors carry no tag. The public catalog may be kept by the
browser (`private, no-cache`); personal answers stay `no-store`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from hashlib import sha256

import pytest
from rest_framework.test import APIClient

from accounts.models import Role
from courseproject.api import conditional
from courses.models import Course
from tests.conftest import Person
from tests.test_sign_ins import bearer, sign_in

CATALOG = "private, no-cache"
PERSONAL = "no-store"


@dataclass
class Scene:
    student: Person
    instructor: Person
    course: Course


@dataclass(frozen=True)
class Read:
    # Who reads, and where; the roster and the instructor's courses are the instructor's reads.
    url: Callable[[Scene], str]
    reader: str
    cache_control: str


READS = {
    "course list": Read(lambda scene: f"/api/courses?semester_id={scene.course.semester_id}", "student", CATALOG),
    "instructor's courses": Read(
        lambda scene: f"/api/courses?instructor_id={scene.course.instructor_id}", "student", CATALOG
    ),
    "course detail": Read(lambda scene: f"/api/courses/{scene.course.course_id}", "student", CATALOG),
    "semester list": Read(lambda scene: "/api/semesters", "student", CATALOG),
    "semester detail": Read(lambda scene: f"/api/semesters/{scene.course.semester_id}", "student", CATALOG),
    "my enrollments": Read(lambda scene: "/api/enrollments/me", "student", PERSONAL),
    "roster": Read(lambda scene: f"/api/courses/{scene.course.course_id}/enrollments", "instructor", PERSONAL),
    "my profile": Read(lambda scene: "/api/auth/me", "student", PERSONAL),
}
# The reads whose body shows a course's seats or its students.
SEAT_READS = ["course list", "instructor's courses", "course detail", "my enrollments", "roster"]


def enroll(person: Person, course: Course):
    return person.client.post("/api/enrollments", {"course_id": course.course_id}, format="json")


@pytest.fixture
def scene(student: Person, instructor: Person, make_course) -> Scene:
    course = make_course()
    assert enroll(student, course).status_code == 201
    return Scene(student=student, instructor=instructor, course=course)


def read(scene: Scene, name: str, **headers: str):
    return getattr(scene, READS[name].reader).client.get(READS[name].url(scene), **headers)


def if_none_match(value: str) -> dict[str, str]:
    return {"HTTP_IF_NONE_MATCH": value}


@pytest.mark.parametrize("name", list(READS))
def test_a_cached_read_carries_the_same_etag_each_time(name, scene):
    first, second = read(scene, name), read(scene, name)
    assert first.status_code == second.status_code == 200, first.content
    assert first["ETag"].startswith('"') and first["ETag"].endswith('"')
    assert first["ETag"] == second["ETag"]
    assert first.content == second.content
    assert first["Cache-Control"] == READS[name].cache_control


@pytest.mark.parametrize("name", list(READS))
def test_the_current_etag_gets_304_with_no_body_and_the_same_etag(name, scene):
    etag = read(scene, name)["ETag"]
    response = read(scene, name, **if_none_match(etag))
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag
    assert response["Cache-Control"] == READS[name].cache_control
    assert "Content-Type" not in response.headers


@pytest.mark.parametrize(
    "header",
    ["*", '"stale", {etag}', "W/{etag}", '"a","b" , W/{etag}'],
    ids=["any", "in a list", "weak", "weak in a list"],
)
def test_if_none_match_compares_weakly_and_takes_lists_and_any(header, scene):
    etag = read(scene, "course detail")["ETag"]
    assert read(scene, "course detail", **if_none_match(header.format(etag=etag))).status_code == 304


@pytest.mark.parametrize("header", ['"stale"', 'W/"stale"', "not a tag", ""])
def test_an_old_or_unreadable_tag_gets_the_body(header, scene):
    response = read(scene, "course detail", **if_none_match(header))
    assert response.status_code == 200
    assert response.json()["course_id"] == scene.course.course_id


@pytest.mark.parametrize("name", SEAT_READS)
def test_a_seat_taken_changes_the_tag(name, scene, make_person):
    before = read(scene, name)["ETag"]
    assert enroll(make_person(), scene.course).status_code == 201
    # The reader's own enrollments change only with their own enroll or drop.
    if name == "my enrollments":
        assert scene.student.client.delete(f"/api/enrollments/{scene.course.course_id}").status_code == 204
    response = read(scene, name, **if_none_match(before))
    assert response.status_code == 200
    assert response["ETag"] != before


@pytest.mark.parametrize("name", ["course list", "course detail", "semester detail", "my profile", "my enrollments"])
def test_a_revoked_token_gets_401_and_never_304(name, scene):
    tokens = sign_in(scene.student)
    url = READS[name].url(scene)
    etag = bearer(tokens["access"]).get(url)["ETag"]
    assert bearer(tokens["access"]).post("/api/auth/logout", {"all": True}, format="json").status_code == 204
    response = bearer(tokens["access"]).get(url, **if_none_match(etag))
    assert (response.status_code, response.json()["code"]) == (401, "token_revoked")
    assert "ETag" not in response.headers
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("name", list(READS))
def test_no_token_gets_401_and_never_304(name, scene):
    etag = read(scene, name)["ETag"]
    response = APIClient().get(READS[name].url(scene), **if_none_match(etag))
    assert response.status_code == 401
    assert "ETag" not in response.headers


def test_errors_carry_no_etag(scene, make_person):
    student, other_instructor = scene.student.client, make_person(Role.INSTRUCTOR).client
    errors = [
        student.get("/api/courses/no-such-course", **if_none_match("*")),
        student.get("/api/courses", **if_none_match("*")),  # no filter: 400
        student.get("/api/semesters/0", **if_none_match("*")),
        other_instructor.get(f"/api/courses/{scene.course.course_id}/enrollments", **if_none_match("*")),
    ]
    assert [response.status_code for response in errors] == [404, 400, 404, 403]
    for response in errors:
        assert "ETag" not in response.headers
        assert response["Cache-Control"] == "no-store"


def test_a_tag_is_its_bodys_digest_whether_remembered_or_not(monkeypatch):
    monkeypatch.setattr(conditional, "ETAG_MEMO_MAX_BYTES", 100)
    body = b'{"seats_available":1}' * 2
    digest = f'"{sha256(body).hexdigest()[:32]}"'
    assert conditional.etag_of(body) == digest
    assert conditional.etag_of(body) == digest  # remembered
    assert conditional.etag_of(bytes(bytearray(body))) == digest  # equal bytes from elsewhere
    assert conditional.etag_of(body.replace(b"1", b"0")) != digest
    for number in range(20):  # past the memo's bound: it starts over, and the tags stay right
        assert conditional.etag_of(b"%d" % number * 10) == f'"{sha256(b"%d" % number * 10).hexdigest()[:32]}"'
        assert conditional._etag_bytes <= 100
    assert conditional.etag_of(body) == digest
