"""/api/semesters input: the window's order (on create, and on patch against the stored values) and
every malformed value, each a 400 naming its field, never a 500."""

from __future__ import annotations

import pytest

from tests.conftest import fresh_semester_id
from tests.test_semesters_api import OPENS, create, patch, semester_body


class TestCreateInput:
    def test_deadlines_may_be_the_opening_instant_itself(self, admin):
        # The same instant, written in another zone.
        created = create(admin, add_deadline="2031-03-02T15:00:00+01:00", drop_deadline=OPENS)
        assert created["add_deadline"] == created["drop_deadline"] == "2031-03-02T14:00:00.000000Z"

    def test_a_year_before_1000_is_answered_in_four_digits(self, admin):
        # Found by tests/test_schema_fuzz.py: strftime wrote "137-10-05T...", no RFC 3339 date-time.
        created = create(admin, registration_opens_at="0137-10-05T05:45:16.0223-00:08")
        assert created["registration_opens_at"] == "0137-10-05T05:53:16.022300Z"
        assert admin.client.get(f"/api/semesters/{created['semester_id']}").json() == created

    @pytest.mark.parametrize(
        ("overrides", "fields"),
        [
            ({"add_deadline": "2031-03-02T13:59:59Z"}, {"add_deadline"}),
            ({"drop_deadline": "2031-01-01T00:00:00Z"}, {"drop_deadline"}),
            (
                {"add_deadline": "2030-01-01T00:00:00Z", "drop_deadline": "2030-01-01T00:00:00Z"},
                {"add_deadline", "drop_deadline"},
            ),
            ({"add_deadline": "2031-03-02T13:59:59.999999Z"}, {"add_deadline"}),  # a microsecond before
        ],
    )
    def test_a_deadline_before_the_opening_is_400_on_its_field(self, admin, overrides, fields):
        body = semester_body(**overrides)
        response = admin.client.post("/api/semesters", body, format="json")
        assert response.status_code == 400
        assert set(response.json()) == fields
        assert admin.client.get(f"/api/semesters/{body['semester_id']}").status_code == 404

    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            ("registration_opens_at", "2031-03-02T14:00:00", "offset"),
            ("registration_opens_at", "2031-03-02 14:00", "offset"),
            ("add_deadline", 1_900_000_000, "Must be a string."),
            ("add_deadline", ["2031-03-20T23:59:59Z"], "Must be a string."),
            ("drop_deadline", "2031-02-30T10:00:00Z", "format"),
            ("drop_deadline", "2031-04-15T25:00:00Z", "format"),
            ("drop_deadline", "next tuesday", "format"),
            ("drop_deadline", "9999-12-31T23:00:00-05:00", "format"),
            ("drop_deadline", None, "null"),
            ("credit_limit", 0, "greater than or equal to 1"),
            ("credit_limit", 101, "less than or equal to 100"),
            ("credit_limit", "many", "valid integer"),
            ("credit_limit", 1.5, "valid integer"),
            ("semester_id", 20264, "year and a term"),
            ("semester_id", 20260, "year and a term"),
            ("semester_id", 263, "greater than or equal to 10001"),
            ("semester_id", 1_000_001, "less than or equal to 999999"),
            ("semester_id", "fall", "valid integer"),
            ("name", "", "blank"),
            ("name", 2031, "Must be a string."),
            ("name", "x" * 101, "no more than 100"),
            ("name", "Spring\x072031", "Control characters"),
        ],
    )
    def test_bad_input_is_400_naming_the_field(self, admin, field, value, message):
        response = admin.client.post("/api/semesters", semester_body(**{field: value}), format="json")
        assert response.status_code == 400
        assert list(response.json()) == [field]
        assert message in response.json()[field][0]

    def test_missing_fields_are_named(self, admin):
        response = admin.client.post("/api/semesters", {"semester_id": fresh_semester_id()}, format="json")
        assert response.status_code == 400
        assert set(response.json()) == {"name", "registration_opens_at", "add_deadline", "drop_deadline"}

    def test_a_body_that_is_not_an_object_is_400(self, admin):
        response = admin.client.post("/api/semesters", [semester_body()], format="json")
        assert response.status_code == 400


class TestPatchInput:
    def test_a_patch_is_checked_against_the_stored_window(self, admin):
        semester_id = create(admin)["semester_id"]
        early = patch(admin, semester_id, {"add_deadline": "2031-03-01T00:00:00Z"})
        assert early.status_code == 400
        assert list(early.json()) == ["add_deadline"]
        # Moving the opening past the stored add deadline is the opening's error: that is what changed.
        late = patch(admin, semester_id, {"registration_opens_at": "2031-03-25T00:00:00Z"})
        assert late.status_code == 400
        assert list(late.json()) == ["registration_opens_at"]
        assert "add_deadline" in late.json()["registration_opens_at"][0]
        # The whole window moved at once is sound.
        moved = patch(
            admin,
            semester_id,
            {
                "registration_opens_at": "2031-03-25T00:00:00Z",
                "add_deadline": "2031-04-10T00:00:00Z",
                "drop_deadline": "2031-05-01T00:00:00Z",
            },
        )
        assert moved.status_code == 200
        assert moved.json()["add_deadline"] == "2031-04-10T00:00:00.000000Z"

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({}, "non_field_errors"),
            ({"semester_id": 20271}, "non_field_errors"),
            ({"credit_limit": 0}, "credit_limit"),
            ({"add_deadline": "2031-03-20T23:59:59"}, "add_deadline"),
            ({"drop_deadline": None}, "drop_deadline"),
            ({"name": ""}, "name"),
        ],
    )
    def test_bad_patches_are_400_naming_the_field(self, admin, changes, field):
        semester_id = create(admin)["semester_id"]
        response = patch(admin, semester_id, changes)
        assert response.status_code == 400
        assert list(response.json()) == [field]
