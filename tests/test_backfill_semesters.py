"""manage.py backfill_semesters: semesters that have courses from before semesters were records get a
record with the default rules; nothing else changes, however often it runs; and it never Scans (the
suite's guard fails any test that does)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from audit.models import AuditRecord, entity_key_for
from courseproject.ids import consecutive_semesters, new_id, semester_name
from courses.models import Course
from semesters.defaults import default_rules
from semesters.models import Semester
from tests.conftest import authenticated_client, fresh_semester_id, open_semester


def legacy_course(semester_id: int) -> Course:
    """A course written as the code before semester records did: no record for its semester."""
    now = timezone.now()
    course = Course(
        course_id=new_id(),
        course_code="OLD 101",
        title="From before semesters were records",
        semester_id=semester_id,
        department_id=1,
        instructor_id=new_id(),
        credits=3,
        capacity=10,
        created_at=now,
        updated_at=now,
    )
    course.save()
    return course


def has_record(semester_id: int) -> bool:
    try:
        Semester.get(semester_id, consistent_read=True)
    except Semester.DoesNotExist:
        return False
    return True


def probed_semester_nobody_uses() -> int:
    """A semester inside the years the command looks at by default (2000 on) with neither a record
    nor courses yet: 2000 to 2019, long before the demo data's."""
    for semester_id in consecutive_semesters(20001, 60):
        if not has_record(semester_id) and next(iter(Course.by_semester.query(semester_id, limit=1)), None) is None:
            return semester_id
    raise AssertionError("No free semester left in 2000-2019")


def backfill(*arguments: str) -> str:
    output = io.StringIO()
    call_command("backfill_semesters", *arguments, stdout=output)
    return output.getvalue()


class TestBackfill:
    def test_a_semester_with_courses_but_no_record_gets_the_default_rules(self, student, dynamodb_calls):
        semester_id = probed_semester_nobody_uses()
        legacy_course(semester_id)
        client = authenticated_client(student.user)
        assert client.get(f"/api/semesters/{semester_id}").status_code == 404
        dynamodb_calls.clear()
        assert f"created {semester_id} ({semester_name(semester_id)})" in backfill()
        assert "BatchGetItem" in dynamodb_calls.operations
        record = Semester.get(semester_id)
        rules = default_rules(semester_id)
        assert (record.name, int(record.credit_limit)) == (rules["name"], 18)
        assert (record.registration_opens_at, record.add_deadline, record.drop_deadline) == (
            rules["registration_opens_at"],
            rules["add_deadline"],
            rules["drop_deadline"],
        )
        # Through the semester service: the API serves it at once, over the 404 it cached before.
        assert client.get(f"/api/semesters/{semester_id}").json()["name"] == rules["name"]
        audit = list(AuditRecord.by_entity.query(entity_key_for("semester", str(semester_id))))
        assert [(entry.action, entry.actor_id) for entry in audit] == [("created", "backfill_semesters")]

    def test_a_semester_with_a_record_is_untouched(self):
        semester_id = open_semester(probed_semester_nobody_uses(), credit_limit=9, name="Set by hand")
        legacy_course(semester_id)
        before = Semester.get(semester_id)
        assert f"created {semester_id}" not in backfill()
        after = Semester.get(semester_id)
        assert (after.name, int(after.credit_limit), int(after.revision), after.updated_at) == (
            "Set by hand",
            9,
            int(before.revision),
            before.updated_at,
        )

    def test_running_it_again_changes_nothing(self):
        semester_id = probed_semester_nobody_uses()
        legacy_course(semester_id)
        backfill()
        first = Semester.get(semester_id)
        second_run = backfill()
        assert "created 0." in second_run
        assert f"created {semester_id}" not in second_run
        again = Semester.get(semester_id)
        assert (int(again.revision), again.updated_at) == (int(first.revision), first.updated_at)

    def test_a_dry_run_creates_nothing(self):
        semester_id = probed_semester_nobody_uses()
        legacy_course(semester_id)
        output = backfill("--dry-run")
        assert f"would create {semester_id} ({semester_name(semester_id)})" in output
        assert not has_record(semester_id)
        assert f"created {semester_id}" in backfill()

    def test_semesters_outside_the_probed_years_are_backfilled_when_named(self):
        semester_id = fresh_semester_id(term=3)  # the year 1000 or so: before --from-year's default
        legacy_course(semester_id)
        backfill()
        assert not has_record(semester_id)
        assert f"created {semester_id}" in backfill("--semester", str(semester_id))
        assert Semester.get(semester_id).name == semester_name(semester_id)

    def test_a_named_semester_without_courses_gets_no_record(self):
        semester_id = fresh_semester_id()
        backfill("--semester", str(semester_id))
        assert not has_record(semester_id)

    @pytest.mark.parametrize("semester_id", ["0", "1000000"])
    def test_a_semester_id_out_of_range_is_refused(self, semester_id):
        with pytest.raises(CommandError, match="--semester"):
            backfill("--semester", semester_id)
