"""Semesters in the admin: the list (newest first, cursors, from a semester back), the add and change
forms through the semester services, and times on the university's clock: typed and shown in
UNIVERSITY_TIME_ZONE, daylight saving included, stored and served by the API in UTC."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from audit.models import AuditRecord, entity_key_for
from courseproject.adminsite.times import UniversityDateTimeField
from semesters import services
from semesters.models import Semester
from tests.admin.helpers import AUDIT, SEMESTERS, messages_of, text
from tests.conftest import fresh_semester_id, open_semester, unrecorded_semester

NEW_YORK = "America/New_York"
# 2026 in New York: clocks go forward at 02:00 on 8 March (EST, UTC-5, to EDT, UTC-4) and back at
# 02:00 on 1 November.
BEFORE_SPRING_FORWARD = "2026-03-07 09:00"
AFTER_SPRING_FORWARD = "2026-03-09 09:00"
AFTER_FALL_BACK = "2026-11-02 09:00"


@pytest.fixture
def new_york(settings):
    settings.UNIVERSITY_TIME_ZONE = NEW_YORK


def shown(response) -> dict:
    """The form's fields as the page shows them (what a person submits when changing nothing)."""
    return {field.name: field.value() for field in response.context["form"] if field.value() is not None}


ROW_LINK = re.compile(r'<th><a href="/admin/semesters/semester/(\d+)/change/">')


def listed_ids(response) -> list[int]:
    return [int(found) for found in ROW_LINK.findall(text(response))]


def add_form(**changes) -> dict:
    return {
        "semester_id": fresh_semester_id(),
        "name": "Spring 2026",
        "registration_opens_at": BEFORE_SPRING_FORWARD,
        "add_deadline": AFTER_SPRING_FORWARD,
        "drop_deadline": AFTER_FALL_BACK,
        "credit_limit": 15,
        **changes,
    }


class TestSemesterList:
    def test_newest_first_fifty_a_page_from_a_semester_back(self, admin_client):
        ids = [open_semester(fresh_semester_id()) for _ in range(52)]
        newest_first = sorted(ids, reverse=True)
        first = admin_client.get(SEMESTERS, {"up_to": newest_first[0]})
        assert listed_ids(first) == newest_first[:50]
        next_url = re.search(r'href="(\?[^"]*cursor=[^"]*)" class="showall" rel="next"', text(first)).group(1)
        second = admin_client.get(SEMESTERS + next_url.replace("&amp;", "&"))
        assert listed_ids(second)[:2] == newest_first[50:]

    def test_the_whole_list_is_newest_first(self, admin_client):
        open_semester(fresh_semester_id())
        ids = listed_ids(admin_client.get(SEMESTERS))
        assert ids
        assert ids == sorted(ids, reverse=True)

    def test_times_are_shown_on_the_university_clock(self, admin_client, new_york):
        semester_id = open_semester(
            fresh_semester_id(),
            registration_opens_at=datetime(2026, 3, 7, 14, tzinfo=UTC),
            add_deadline=datetime(2026, 3, 9, 13, tzinfo=UTC),
            drop_deadline=datetime(2026, 11, 2, 14, tzinfo=UTC),
        )
        response = admin_client.get(SEMESTERS, {"q": semester_id})
        assert listed_ids(response) == [semester_id]
        page = text(response)
        assert "2026-03-07 09:00 EST" in page
        assert "2026-03-09 09:00 EDT" in page
        assert "2026-11-02 09:00 EST" in page
        assert f"university&#x27;s clock ({NEW_YORK})" in page

    def test_says_where_registration_stands(self, admin_client):
        now = timezone.now()
        upcoming = open_semester(fresh_semester_id(), registration_opens_at=now + timedelta(days=3))
        current = open_semester(fresh_semester_id())
        past = open_semester(
            fresh_semester_id(),
            registration_opens_at=now - timedelta(days=90),
            add_deadline=now - timedelta(days=60),
            drop_deadline=now - timedelta(days=30),
        )
        for semester_id, state in ((upcoming, "opens later"), (current, "open"), (past, "drop deadline passed")):
            assert f"<td>{state}</td>" in text(admin_client.get(SEMESTERS, {"q": semester_id}))

    @pytest.mark.parametrize(
        ("query", "message"),
        [
            ({"q": "fall"}, "Search by a semester id"),
            ({"up_to": "fall"}, "Up to must be a number"),
            ({"cursor": "forged"}, "This cursor is not valid"),
        ],
    )
    def test_bad_filters_are_explained(self, admin_client, query, message):
        response = admin_client.get(SEMESTERS, query)
        assert response.status_code == 200
        assert any(message in shown_message for shown_message in messages_of(response))

    def test_the_index_has_a_semesters_section(self, admin_client):
        index = text(admin_client.get("/admin/"))
        assert SEMESTERS in index
        assert f"{SEMESTERS}add/" in index


class TestAddingASemester:
    def test_the_add_page_proposes_the_next_semester_with_the_default_rules(self, admin_client, settings):
        settings.CURRENT_SEMESTER = 20263
        form = shown(admin_client.get(f"{SEMESTERS}add/"))
        assert (form["semester_id"], form["name"], form["credit_limit"]) == (20271, "Spring 2027", 18)
        # The default opening, 120 days before 1 January 2027, at midnight UTC.
        assert form["registration_opens_at"] == "2026-09-03 00:00"

    def test_local_times_are_stored_in_utc_across_daylight_saving(self, admin_client, admin, student, new_york):
        form = add_form()
        response = admin_client.post(f"{SEMESTERS}add/", form)
        assert response.status_code == 302, response.context["form"].errors
        body = student.client.get(f"/api/semesters/{form['semester_id']}").json()
        assert body == {
            "semester_id": form["semester_id"],
            "name": "Spring 2026",
            "registration_opens_at": "2026-03-07T14:00:00.000000Z",  # EST, UTC-5
            "add_deadline": "2026-03-09T13:00:00.000000Z",  # EDT, UTC-4
            "drop_deadline": "2026-11-02T14:00:00.000000Z",  # EST again
            "credit_limit": 15,
        }
        change = admin_client.get(f"{SEMESTERS}{form['semester_id']}/change/")
        assert {name: shown(change)[name] for name in ("registration_opens_at", "add_deadline", "drop_deadline")} == {
            "registration_opens_at": BEFORE_SPRING_FORWARD,
            "add_deadline": AFTER_SPRING_FORWARD,
            "drop_deadline": AFTER_FALL_BACK,
        }
        assert "opens 2026-03-07T14:00:00.000000Z" in text(change)
        audit = list(AuditRecord.by_entity.query(entity_key_for("semester", str(form["semester_id"]))))
        assert [(record.action, record.actor_id) for record in audit] == [("created", admin.user_id)]

    def test_a_time_with_an_offset_is_taken_as_given(self, admin_client, new_york):
        form = add_form(registration_opens_at="2026-03-07T09:00:00+01:00")
        assert admin_client.post(f"{SEMESTERS}add/", form).status_code == 302
        assert Semester.get(form["semester_id"]).registration_opens_at == datetime(2026, 3, 7, 8, tzinfo=UTC)

    @pytest.mark.parametrize(
        ("typed", "message"),
        [
            ("2026-03-08 02:30", "2026-03-08 02:30 does not exist in America/New_York"),
            (
                "2026-11-01 01:30",
                "happens twice in America/New_York (the clocks go back): give its offset, "
                "2026-11-01 01:30-04:00 or 2026-11-01 01:30-05:00",
            ),
        ],
    )
    def test_a_local_time_the_clocks_skip_or_repeat_is_refused(self, admin_client, new_york, typed, message):
        response = admin_client.post(f"{SEMESTERS}add/", add_form(registration_opens_at=typed))
        assert response.status_code == 200
        assert any(message in error for error in response.context["form"].errors["registration_opens_at"])

    def test_a_repeated_local_time_with_its_offset_is_accepted(self, admin_client, new_york):
        form = add_form(
            registration_opens_at="2026-11-01 01:30-05:00",
            add_deadline="2026-11-20 09:00",
            drop_deadline="2026-12-01 09:00",
        )
        assert admin_client.post(f"{SEMESTERS}add/", form).status_code == 302
        assert Semester.get(form["semester_id"]).registration_opens_at == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)

    def test_the_zone_is_named_next_to_the_time_fields(self, admin_client, new_york):
        page = text(admin_client.get(f"{SEMESTERS}add/"))
        assert page.count(f"University time ({NEW_YORK})") == 3

    @pytest.mark.parametrize(
        ("changes", "field", "message"),
        [
            ({"add_deadline": "2026-03-07 08:59"}, "add_deadline", "Must not be before registration_opens_at."),
            ({"drop_deadline": "2026-01-01 00:00"}, "drop_deadline", "Must not be before registration_opens_at."),
            ({"semester_id": 20264}, "semester_id", "A semester id is a year and a term"),
            ({"registration_opens_at": "soon"}, "registration_opens_at", "Enter a date and time"),
            ({"registration_opens_at": "2026-02-30 09:00"}, "registration_opens_at", "Enter a date and time"),
            ({"credit_limit": 0}, "credit_limit", "greater than or equal to 1"),
            ({"name": "Spring\x072026"}, "name", "Control characters"),
        ],
    )
    def test_the_api_rules_are_shown_on_the_fields(self, admin_client, new_york, changes, field, message):
        form = add_form(**changes)
        response = admin_client.post(f"{SEMESTERS}add/", form)
        assert response.status_code == 200
        assert any(message in error for error in response.context["form"].errors[field])
        assert not Semester.count(form["semester_id"])

    def test_an_existing_semester_id_is_refused_on_its_field(self, admin_client):
        semester_id = open_semester(fresh_semester_id())
        response = admin_client.post(f"{SEMESTERS}add/", add_form(semester_id=semester_id))
        assert response.context["form"].errors["semester_id"] == ["A semester with this id exists already."]


class TestChangingASemester:
    def test_a_change_is_served_by_the_api_at_once_and_audited(self, admin_client, admin, student):
        semester_id = open_semester(fresh_semester_id(), name="Before")
        assert student.client.get(f"/api/semesters/{semester_id}").json()["name"] == "Before"  # now cached
        page = admin_client.get(f"{SEMESTERS}{semester_id}/change/")
        response = admin_client.post(
            f"{SEMESTERS}{semester_id}/change/", shown(page) | {"name": "After", "credit_limit": 12}
        )
        assert response.status_code == 302
        body = student.client.get(f"/api/semesters/{semester_id}").json()
        assert (body["name"], body["credit_limit"]) == ("After", 12)
        audit = list(AuditRecord.by_entity.query(entity_key_for("semester", str(semester_id))))
        assert [(record.action, record.actor_id) for record in audit] == [("updated", admin.user_id)]
        assert (audit[0].before["name"], audit[0].after["name"]) == ("Before", "After")

    def test_saving_the_form_unchanged_keeps_every_instant(self, admin_client, new_york):
        # open_semester's times carry microseconds: the form must give them back exactly.
        semester_id = open_semester(fresh_semester_id())
        before = Semester.get(semester_id)
        page = admin_client.get(f"{SEMESTERS}{semester_id}/change/")
        response = admin_client.post(f"{SEMESTERS}{semester_id}/change/", shown(page), follow=True)
        assert "No fields changed." in messages_of(response)
        assert int(Semester.get(semester_id).revision) == int(before.revision)

    def test_the_window_is_checked_against_the_stored_one(self, admin_client):
        semester_id = open_semester(fresh_semester_id())
        page = admin_client.get(f"{SEMESTERS}{semester_id}/change/")
        response = admin_client.post(
            f"{SEMESTERS}{semester_id}/change/", shown(page) | {"registration_opens_at": "2099-01-01 00:00"}
        )
        assert response.status_code == 200
        assert "Must not be after add_deadline" in response.context["form"].errors["registration_opens_at"][0]

    def test_a_change_made_meanwhile_is_not_overwritten(self, admin_client, admin):
        semester_id = open_semester(fresh_semester_id())
        page = admin_client.get(f"{SEMESTERS}{semester_id}/change/")
        services.update_semester(actor=admin.actor, semester_id=semester_id, changes={"credit_limit": 20})
        response = admin_client.post(f"{SEMESTERS}{semester_id}/change/", shown(page) | {"name": "Mine"})
        assert response.status_code == 200
        assert "changed meanwhile" in text(response)
        stored = Semester.get(semester_id)
        assert (stored.name, int(stored.credit_limit)) == ("Test semester", 20)

    def test_links_to_its_history_and_its_courses(self, admin_client, admin):
        semester_id = open_semester(fresh_semester_id())
        services.update_semester(actor=admin.actor, semester_id=semester_id, changes={"name": "Historic"})
        page = text(admin_client.get(f"{SEMESTERS}{semester_id}/change/"))
        assert f"{AUDIT}?entity=semester%3A{semester_id}" in page
        assert f"/admin/courses/course/?semester={semester_id}" in page
        history = text(admin_client.get(AUDIT, {"entity": f"semester:{semester_id}"}))
        assert f"Historic ({semester_id})" in history
        assert "name: &#x27;Test semester&#x27; → &#x27;Historic&#x27;" in history

    def test_a_missing_semester_goes_back_to_the_list(self, admin_client):
        response = admin_client.get(f"{SEMESTERS}{unrecorded_semester()}/change/", follow=True)
        assert any("doesn’t exist" in message for message in messages_of(response))


class TestUniversityDateTimeField:
    @pytest.mark.parametrize(
        ("typed", "stored"),
        [
            ("2026-03-07 09:00", datetime(2026, 3, 7, 14, tzinfo=UTC)),
            ("2026-03-07T09:00:00", datetime(2026, 3, 7, 14, tzinfo=UTC)),
            ("2026-07-01 09:00:30.5", datetime(2026, 7, 1, 13, 0, 30, 500000, tzinfo=UTC)),
            ("2026-07-01 09:00Z", datetime(2026, 7, 1, 9, tzinfo=UTC)),
        ],
    )
    def test_cleans_to_utc(self, new_york, typed, stored):
        assert UniversityDateTimeField().clean(typed) == stored

    def test_shows_what_it_cleans_back(self, new_york):
        field = UniversityDateTimeField()
        for moment in (datetime(2026, 3, 7, 14, tzinfo=UTC), datetime(2026, 7, 1, 13, 0, 30, 123456, tzinfo=UTC)):
            assert field.clean(field.prepare_value(moment)) == moment

    def test_in_utc_by_default(self):
        assert UniversityDateTimeField().clean("2026-03-07 09:00") == datetime(2026, 3, 7, 9, tzinfo=UTC)
