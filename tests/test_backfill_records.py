"""backfill_semesters rebuilds, for the semesters it gives a record, the schedules and transcript
entries their enrollments predate, so the credit and conflict rules count existing enrollments."""

from __future__ import annotations

import io

from django.core.management import call_command

from enrollments import services as enrollment_services
from enrollments.models import Schedule, Transcript, transcript_key
from semesters.models import Semester
from tests.conftest import open_semester


def forget_rules_records(*, semester_id: int, user_ids: list[str]) -> None:
    """As if the data predated the rules: no semester record, no schedules, no transcripts."""
    Semester(semester_id=semester_id).delete()
    for user_id in user_ids:
        Schedule(user_id, semester_id).delete()
        Transcript(user_id).delete()


def test_legacy_enrollments_get_their_schedules_and_transcript_entries(make_person, make_course):
    semester_id = open_semester(semester_id=20073)
    first, second = make_person(), make_person()
    courses = [make_course(semester_id=semester_id, credits=credits) for credits in (3, 4)]
    for course in courses:
        enrollment_services.enroll(actor=first.actor, course_id=course.course_id)
    enrollment_services.enroll(actor=second.actor, course_id=courses[0].course_id)
    forget_rules_records(semester_id=semester_id, user_ids=[first.user_id, second.user_id])

    output = io.StringIO()
    call_command("backfill_semesters", "--semester", str(semester_id), stdout=output)
    assert "2 schedules and 3 transcript entries rebuilt" in output.getvalue()

    assert Schedule.get(first.user_id, semester_id, consistent_read=True).enrolled_credits == 7
    assert Schedule.get(second.user_id, semester_id, consistent_read=True).enrolled_credits == 3
    key = transcript_key(course_code=courses[0].course_code, semester_id=semester_id)
    assert Transcript.get(second.user_id, consistent_read=True).entries == {key: "enrolled"}

    again = io.StringIO()
    call_command("backfill_semesters", "--semester", str(semester_id), stdout=again)
    assert again.getvalue().rstrip().endswith("created 0.")
