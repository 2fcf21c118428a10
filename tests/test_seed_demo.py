"""manage.py seed_demo: deterministic, idempotent, and consistent seat counts."""

from __future__ import annotations

import io
import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from courses.models import Course
from demo.dataset import build_demo_dataset
from demo.logins import DEMO_PASSWORD
from enrollments.models import Enrollment, Schedule, Transcript, transcript_key
from enrollments.rules import meetings_overlap
from semesters.models import Semester

SIZE = {"courses": 40, "students": 15, "enrollments": 60, "semesters": 2, "departments": 4, "seed": 7}


def seed() -> str:
    output = io.StringIO()
    call_command("seed_demo", "--no-progress", *[f"--{name}={value}" for name, value in SIZE.items()], stdout=output)
    return output.getvalue()


def test_the_same_seed_describes_the_same_data():
    arguments = {**dict(SIZE.items()), "instructors": 5}
    first, second = build_demo_dataset(**arguments), build_demo_dataset(**arguments)
    assert first.courses == second.courses
    assert first.enrollments_by_course == second.enrollments_by_course
    assert first.enrollment_count == 60


def test_seeding_twice_writes_once_and_keeps_counters_true():
    first = seed()
    assert "40 courses (40 new)" in first
    assert "60 enrollments (60 new)" in first
    assert "password 'registration-demo'" in first
    second = seed()
    assert "(0 new)" in second and "40 new" not in second

    for seeded in build_demo_dataset(**SIZE, instructors=5).courses:
        course = Course.get(seeded.course_id, consistent_read=True)
        records = list(Enrollment.by_course.query(course.course_id))
        assert course.enrolled_count == len(records) <= course.capacity

    response = APIClient().post(
        "/api/auth/login", {"email": "student1@demo.edu", "password": DEMO_PASSWORD}, format="json"
    )
    assert response.status_code == 200


# --- Semesters, meetings, prerequisites, schedules and transcripts -----------------------------------

DEFAULT = {"courses": 300, "students": 60, "enrollments": 400, "instructors": 10, "semesters": 3, "departments": 20}
DECEMBER_FIRST = date(2026, 12, 1)
MIDNIGHT = datetime(2026, 12, 1, tzinfo=UTC)


def default_dataset(**changes):
    return build_demo_dataset(**{**DEFAULT, "seed": 42, "today": DECEMBER_FIRST, **changes})


def test_the_semesters_follow_the_calendar_one_closed_one_open_one_opening_later():
    closed, open_now, later = default_dataset().semesters

    assert [closed.semester_id, open_now.semester_id, later.semester_id] == [20262, 20263, 20271]
    assert closed.add_deadline < closed.drop_deadline < MIDNIGHT
    assert open_now.registration_opens_at == MIDNIGHT - timedelta(days=7)
    assert open_now.add_deadline == MIDNIGHT + timedelta(days=14)
    assert open_now.drop_deadline == MIDNIGHT + timedelta(days=28)
    assert later.registration_opens_at == MIDNIGHT + timedelta(days=14)
    assert default_dataset(today=date(2027, 2, 1)).semesters[1].semester_id == 20271


def test_the_same_day_describes_the_same_data_and_a_new_term_brings_new_courses():
    assert default_dataset() == default_dataset()
    next_term = default_dataset(today=date(2027, 2, 1))
    # The semester both share keeps its course ids; the new one's courses are new items.
    shared = {course.course_id for course in default_dataset().courses if course.semester_id == 20271}
    assert shared == {course.course_id for course in next_term.courses if course.semester_id == 20271}
    assert not {course.course_id for course in default_dataset().courses} & {
        course.course_id for course in next_term.courses if course.semester_id == 20272
    }


def test_seeded_enrollments_keep_every_registration_rule():
    dataset = default_dataset()
    courses = {course.course_id: course for course in dataset.courses}
    semesters = {semester.semester_id: semester for semester in dataset.semesters}
    enrollments = [enrollment for seeded in dataset.enrollments_by_course.values() for enrollment in seeded]
    assert len(enrollments) == 400
    assert any(course.prerequisites for course in dataset.courses)
    assert all(1 <= len(course.meetings) <= 2 for course in dataset.courses)

    terms: dict[tuple[str, int], list] = {}
    for enrollment in enrollments:
        terms.setdefault((enrollment.user_id, enrollment.semester_id), []).append(courses[enrollment.course_id])
    for (user_id, semester_id), taken in terms.items():
        assert semesters[semester_id].registration_opens_at <= MIDNIGHT, "no enrollments before registration opens"
        assert sum(course.credits for course in taken) <= dataset.credit_limit
        for first, second in itertools.combinations(taken, 2):
            assert not any(meetings_overlap(one, other) for one in first.meetings for other in second.meetings), (
                user_id,
                first.course_code,
                second.course_code,
            )
        for course in taken:
            for code in course.prerequisites:
                assert any(
                    earlier.course_code == code
                    for (other_user, other_semester), others in terms.items()
                    if other_user == user_id and other_semester < semester_id
                    for earlier in others
                ), (user_id, course.course_code, code)
    for course_id, seeded in dataset.enrollments_by_course.items():
        assert len(seeded) <= courses[course_id].capacity


def test_the_closed_semesters_enrollments_are_completed_but_one_courses_grades_are_pending():
    dataset = default_dataset()
    showcase = dataset.showcase
    closed = dataset.semesters[0].semester_id
    statuses = {
        (enrollment.course_id, enrollment.status)
        for seeded in dataset.enrollments_by_course.values()
        for enrollment in seeded
        if enrollment.semester_id == closed
    }
    assert {status for course_id, status in statuses if course_id != showcase.grades_pending_course.course_id} == {
        "completed"
    }
    assert {status for course_id, status in statuses if course_id == showcase.grades_pending_course.course_id} == {
        "enrolled"
    }
    assert all(
        enrollment.status == "enrolled"
        for seeded in dataset.enrollments_by_course.values()
        for enrollment in seeded
        if enrollment.semester_id != closed
    )
    assert len(dataset.enrollments_by_course[showcase.full_course.course_id]) == showcase.full_course.capacity


def test_all_open_opens_every_semester_now_with_fixed_ids_and_completes_nothing():
    dataset = default_dataset(semesters=5, all_open=True, first_semester=20261)

    assert [semester.semester_id for semester in dataset.semesters] == [20261, 20262, 20263, 20271, 20272]
    assert all(semester.registration_opens_at < MIDNIGHT < semester.add_deadline for semester in dataset.semesters)
    statuses = {enrollment.status for seeded in dataset.enrollments_by_course.values() for enrollment in seeded}
    assert statuses == {"enrolled"}
    assert {enrollment.semester_id for seeded in dataset.enrollments_by_course.values() for enrollment in seeded} == {
        20261,
        20262,
        20263,
        20271,
        20272,
    }
    assert dataset.showcase is None


def test_schedules_and_transcripts_agree_with_the_seeded_enrollments():
    seed()
    dataset = build_demo_dataset(**SIZE, instructors=5)
    courses = {course.course_id: course for course in dataset.courses}
    semester_ids = {semester.semester_id for semester in dataset.semesters}
    for student in (user for user in dataset.users if user.role == "student"):
        seeded = {
            enrollment.course_id
            for enrollments in dataset.enrollments_by_course.values()
            for enrollment in enrollments
            if enrollment.user_id == student.user_id
        }
        # Only this dataset's semesters: other tests seed these students into semesters of their own.
        records = [
            record
            for record in Enrollment.by_user.query(student.user_id)
            if record.semester_id in semester_ids and record.status in ("enrolled", "completed")
        ]
        assert {record.course_id for record in records} == seeded
        for semester_id in semester_ids:
            in_semester = [record for record in records if record.semester_id == semester_id]
            try:
                schedule = Schedule.get(student.user_id, semester_id, consistent_read=True)
            except Schedule.DoesNotExist:
                assert not in_semester
                continue
            assert set(schedule.courses) == {record.course_id for record in in_semester}
            assert schedule.enrolled_credits == sum(courses[record.course_id].credits for record in in_semester)
        if records:
            entries = Transcript.get(student.user_id, consistent_read=True).entries
            assert {key: status for key, status in entries.items() if int(key.rpartition("#")[2]) in semester_ids} == {
                transcript_key(course_code=courses[record.course_id].course_code, semester_id=record.semester_id): (
                    record.status
                )
                for record in records
            }


def test_each_run_moves_the_windows_to_its_day_and_changes_nothing_else(student):
    arguments = ["--no-progress", "--courses=24", "--students=8", "--enrollments=20", "--semesters=2", "--seed=7"]
    first = io.StringIO()
    call_command("seed_demo", *arguments, "--today=2031-03-02", stdout=first)
    assert "2 semesters (2 new, 0 with windows moved)" in first.getvalue()
    assert "20311 Spring 2031: registration" in first.getvalue()
    assert "(2031-02-23 00:00Z to 2031-03-16 00:00Z)" in first.getvalue()
    before = student.client.get("/api/semesters/20311").json()
    assert before["registration_opens_at"] == "2031-02-23T00:00:00.000000Z"

    again = io.StringIO()
    call_command("seed_demo", *arguments, "--today=2031-03-09", stdout=again)
    assert "24 courses (0 new), 20 enrollments (0 new), 0 schedules and 0 transcripts written" in again.getvalue()
    assert "2 semesters (0 new, 2 with windows moved)" in again.getvalue()
    moved = Semester.get(20311, consistent_read=True)
    assert moved.registration_opens_at == datetime(2031, 3, 2, tzinfo=UTC)
    assert int(moved.revision) == 2
    # Announced like an admin's change: the cached copy follows at once.
    after = student.client.get("/api/semesters/20311").json()
    assert after["registration_opens_at"] == "2031-03-02T00:00:00.000000Z"


def test_demo_examples_prints_the_ids_of_todays_worked_examples():
    output = io.StringIO()
    call_command("demo_examples", "--today=2026-12-01", stdout=output)
    variables = dict(line.split("  #")[0].split("=", 1) for line in output.getvalue().splitlines())
    showcase = default_dataset().showcase
    assert variables["SEMESTER_OPEN"] == "20263"
    assert variables["COURSE_FULL"] == showcase.full_course.course_id
    assert variables["INSTRUCTOR"].endswith("@demo.edu")
    with pytest.raises(CommandError, match="no worked examples"):
        call_command("demo_examples", "--semesters=2", stdout=io.StringIO())
