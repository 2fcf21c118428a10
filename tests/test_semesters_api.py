"""/api/semesters: reading (newest first, cursor pages, detail), writing (admins only), the cache (a
change is visible at once), the audit log; and a course needs its semester's record. Malformed
input and the window's order: test_semester_input.py."""

from __future__ import annotations

from typing import Any

import pytest

from audit.models import AuditRecord, entity_key_for
from tests.conftest import Person, fresh_semester_id, unrecorded_semester, when_cached

OPENS = "2031-03-02T14:00:00Z"
ADD_DEADLINE = "2031-03-20T23:59:59Z"
DROP_DEADLINE = "2031-04-15T23:59:59Z"


def semester_body(**overrides: Any) -> dict[str, Any]:
    return {
        "semester_id": fresh_semester_id(),
        "name": "Spring 2031",
        "registration_opens_at": OPENS,
        "add_deadline": ADD_DEADLINE,
        "drop_deadline": DROP_DEADLINE,
        **overrides,
    }


def create(admin: Person, **overrides: Any) -> dict[str, Any]:
    response = admin.client.post("/api/semesters", semester_body(**overrides), format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def patch(person: Person, semester_id: int, changes: dict[str, Any]):
    return person.client.patch(f"/api/semesters/{semester_id}", changes, format="json")


def pages(person: Person, *, limit: int) -> list[tuple[str | None, dict[str, Any]]]:
    """Every page of the list, each with the cursor that asked for it, to the last."""
    collected, cursor = [], None
    while True:
        response = person.client.get("/api/semesters", {"limit": limit, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200
        collected.append((cursor, response.json()))
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return collected


def listed_ids(person: Person) -> list[int]:
    return [semester["semester_id"] for _, page in pages(person, limit=100) for semester in page["results"]]


class TestReading:
    def test_a_semester_reads_as_the_contract_says(self, admin, student):
        created = create(admin, credit_limit=15)
        assert created == {
            "semester_id": created["semester_id"],
            "name": "Spring 2031",
            "registration_opens_at": "2031-03-02T14:00:00.000000Z",
            "add_deadline": "2031-03-20T23:59:59.000000Z",
            "drop_deadline": "2031-04-15T23:59:59.000000Z",
            "credit_limit": 15,
        }
        assert student.client.get(f"/api/semesters/{created['semester_id']}").json() == created

    def test_the_list_is_newest_first_to_its_last_page(self, admin, student):
        ids = [create(admin, semester_id=fresh_semester_id(term))["semester_id"] for term in (1, 2, 3)]
        listed = listed_ids(student)
        assert listed == sorted(listed, reverse=True)
        assert len(listed) == len(set(listed))
        assert [semester_id for semester_id in listed if semester_id in ids] == sorted(ids, reverse=True)

    def test_pages_follow_each_other_with_cursors(self, admin, student):
        for _ in range(4):
            create(admin)
        first = student.client.get("/api/semesters", {"limit": 3}).json()
        assert len(first["results"]) == 3
        second = student.client.get("/api/semesters", {"limit": 3, "cursor": first["next_cursor"]}).json()
        assert second["results"]
        assert max(item["semester_id"] for item in second["results"]) < first["results"][-1]["semester_id"]
        default = student.client.get("/api/semesters").json()
        assert len(default["results"]) == min(20, len(listed_ids(student)))

    @pytest.mark.parametrize(
        ("query", "field"),
        [({"limit": 0}, "limit"), ({"limit": 101}, "limit"), ({"limit": "many"}, "limit"), ({"cursor": "x"}, "cursor")],
    )
    def test_bad_page_parameters_are_400_on_their_field(self, student, query, field):
        response = student.client.get("/api/semesters", query)
        assert response.status_code == 400
        assert field in response.json()

    def test_a_cursor_of_another_list_is_refused(self, student, make_course):
        semester = make_course().semester_id
        make_course(semester_id=semester)
        courses = student.client.get("/api/courses", {"semester_id": semester, "limit": 1}).json()
        response = student.client.get("/api/semesters", {"cursor": courses["next_cursor"]})
        assert response.status_code == 400
        assert "cursor" in response.json()

    def test_an_unknown_semester_is_404(self, student):
        for semester_id in (unrecorded_semester(), 0):
            response = student.client.get(f"/api/semesters/{semester_id}")
            assert response.status_code == 404
            assert response.json()["code"] == "semester_not_found"

    def test_reading_needs_a_signed_in_user(self, anonymous):
        assert anonymous.get("/api/semesters").status_code == 401
        assert anonymous.get(f"/api/semesters/{unrecorded_semester()}").status_code == 401


class TestWriting:
    def test_only_admins_create_and_change_semesters(self, admin, student, instructor, anonymous):
        for person in (student, instructor):
            response = person.client.post("/api/semesters", semester_body(), format="json")
            assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
        assert anonymous.post("/api/semesters", semester_body(), format="json").status_code == 401
        semester_id = create(admin)["semester_id"]
        for person in (student, instructor):
            response = patch(person, semester_id, {"credit_limit": 30})
            assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
        assert student.client.get(f"/api/semesters/{semester_id}").json()["credit_limit"] == 18

    def test_a_semester_id_is_created_once(self, admin):
        semester_id = create(admin)["semester_id"]
        response = admin.client.post("/api/semesters", semester_body(semester_id=semester_id), format="json")
        assert (response.status_code, response.json()["code"]) == (409, "semester_exists")

    def test_times_are_kept_as_instants_in_utc(self, admin):
        created = create(admin, registration_opens_at="2031-03-02T09:00:00-05:00")
        assert created["registration_opens_at"] == "2031-03-02T14:00:00.000000Z"

    def test_the_example_of_docs_api_md(self, admin):
        body = {
            "name": "Summer 2027",
            "registration_opens_at": "2027-02-01T09:00:00-05:00",
            "add_deadline": "2027-06-14T23:59:59-04:00",
            "drop_deadline": "2027-07-26T23:59:59-04:00",
            "credit_limit": 12,
        }
        created = create(admin, **body)
        assert {name: value for name, value in created.items() if name != "semester_id"} == {
            "name": "Summer 2027",
            "registration_opens_at": "2027-02-01T14:00:00.000000Z",
            "add_deadline": "2027-06-15T03:59:59.000000Z",
            "drop_deadline": "2027-07-27T03:59:59.000000Z",
            "credit_limit": 12,
        }
        early = admin.client.post(
            "/api/semesters", semester_body(**body | {"add_deadline": "2027-01-31T12:00:00Z"}), format="json"
        )
        assert early.json() == {"add_deadline": ["Must not be before registration_opens_at."]}
        local = admin.client.post(
            "/api/semesters", semester_body(**body | {"registration_opens_at": "2027-02-01T09:00:00"}), format="json"
        )
        assert "offset" in local.json()["registration_opens_at"][0]

    def test_an_admin_changes_a_semester(self, admin, student):
        semester_id = create(admin)["semester_id"]
        response = patch(admin, semester_id, {"name": "Spring 2031 (moved)", "credit_limit": 12})
        assert response.status_code == 200
        assert response.json()["name"] == "Spring 2031 (moved)"
        assert response.json()["credit_limit"] == 12
        assert response.json()["registration_opens_at"] == "2031-03-02T14:00:00.000000Z"

    def test_patching_an_unknown_semester_is_404(self, admin):
        response = patch(admin, unrecorded_semester(), {"credit_limit": 20})
        assert (response.status_code, response.json()["code"]) == (404, "semester_not_found")


class TestCache:
    def test_a_patch_is_visible_at_once_in_detail_and_list(self, admin, student, dynamodb_calls):
        semester_id = create(admin)["semester_id"]
        assert student.client.get(f"/api/semesters/{semester_id}").json()["name"] == "Spring 2031"
        cursor = next(
            cursor
            for cursor, page in pages(student, limit=100)
            if semester_id in {item["semester_id"] for item in page["results"]}
        )
        assert patch(admin, semester_id, {"name": "Renamed", "credit_limit": 21}).status_code == 200
        dynamodb_calls.clear()
        detail = student.client.get(f"/api/semesters/{semester_id}").json()
        assert (detail["name"], detail["credit_limit"]) == ("Renamed", 21)
        # Written through by the change: the read after it needs no DynamoDB call (without the cache,
        # the semester and, for the token check, the user).
        assert dynamodb_calls.operations == when_cached([], ["GetItem", "GetItem"])
        again = student.client.get("/api/semesters", {"limit": 100, **({"cursor": cursor} if cursor else {})}).json()
        listed = next(item for item in again["results"] if item["semester_id"] == semester_id)
        assert (listed["name"], listed["credit_limit"]) == ("Renamed", 21)

    def test_a_new_semester_is_listed_at_once(self, admin, student):
        listed_ids(student)  # every page cached
        semester_id = create(admin)["semester_id"]
        assert semester_id in listed_ids(student)

    def test_a_semester_created_after_a_404_is_found_at_once(self, admin, student):
        semester_id = fresh_semester_id()
        assert student.client.get(f"/api/semesters/{semester_id}").status_code == 404
        create(admin, semester_id=semester_id)
        assert student.client.get(f"/api/semesters/{semester_id}").status_code == 200


class TestAudit:
    def test_creating_and_changing_a_semester_are_audited(self, admin):
        semester_id = create(admin)["semester_id"]
        patch(admin, semester_id, {"credit_limit": 12})
        records = list(
            AuditRecord.by_entity.query(entity_key_for("semester", str(semester_id)), scan_index_forward=True)
        )
        assert [record.action for record in records] == ["created", "updated"]
        assert {record.actor_id for record in records} == {admin.user_id}
        assert records[0].before is None
        assert records[0].after["credit_limit"] == 18
        assert (records[1].before["credit_limit"], records[1].after["credit_limit"]) == (18, 12)

    def test_refused_writes_leave_no_record(self, admin, student):
        semester_id = create(admin)["semester_id"]
        patch(student, semester_id, {"credit_limit": 30})
        patch(admin, semester_id, {"add_deadline": "2000-01-01T00:00:00Z"})
        records = list(AuditRecord.by_entity.query(entity_key_for("semester", str(semester_id))))
        assert [record.action for record in records] == ["created"]


class TestCoursesNeedTheirSemester:
    def test_a_course_in_a_semester_without_a_record_is_400_unknown_semester(self, admin, instructor):
        semester_id = fresh_semester_id()
        body = {
            "course_code": "HIS 101",
            "title": "History",
            "semester_id": semester_id,
            "department_id": 2,
            "credits": 3,
            "capacity": 20,
        }
        response = instructor.client.post("/api/courses", body, format="json")
        assert response.status_code == 400
        assert list(response.json()) == ["semester_id"]
        assert "No semester has this id" in response.json()["semester_id"][0]
        create(admin, semester_id=semester_id)
        assert instructor.client.post("/api/courses", body, format="json").status_code == 201
