"""seed_demo's writes beyond users and courses: the semesters' records (their windows brought up to
date on every run, so "open now" stays true) and the students' schedules and transcripts, which
must agree with the enrollments seeded beside them as the enroll transaction would have left them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar

from accounts.models import Actor, Role
from courseproject.dynamo.batch import BATCH_GET_LIMIT, batch_get, batch_get_items
from courses.models import Course
from demo.calendar import DemoSemester
from demo.catalogue import DemoEnrollment
from enrollments.models import Schedule, Transcript, transcript_key
from enrollments.records import enrolled_credits, schedule_entry
from semesters.models import Semester
from semesters.services import WINDOW_FIELDS, create_semester, update_semester

ItemT = TypeVar("ItemT")


def write_semesters(semesters: list[DemoSemester], *, actor_id: str) -> tuple[int, int]:
    """Create the missing semester records and move the windows of the others to the demo's, through
    the semester services as the admin `actor_id` (validated, conditioned on the revision read,
    announced and audited like any admin's change); a credit limit or name an admin changed stays.
    Returns (created, updated)."""
    actor = Actor(user_id=actor_id, role=Role.ADMIN)
    existing = batch_get(Semester, [semester.semester_id for semester in semesters], consistent_read=True)
    created = updated = 0
    for demo in semesters:
        window = {name: getattr(demo, name) for name in WINDOW_FIELDS}
        record = existing.get(demo.semester_id)
        if record is None:
            create_semester(actor=actor, semester_id=demo.semester_id, name=demo.name, **window)
            created += 1
        elif any(getattr(record, name) != value for name, value in window.items()):
            update_semester(
                actor=actor, semester_id=demo.semester_id, changes=window, expected_revision=int(record.revision)
            )
            updated += 1
    return created, updated


def chunks(items: Sequence[ItemT], size: int = BATCH_GET_LIMIT) -> Iterator[Sequence[ItemT]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def write_student_records(
    enrollments: list[DemoEnrollment], *, courses: dict[str, Course], now: datetime
) -> tuple[int, int]:
    """Add these (newly written) enrollments to their students' schedules and transcripts: missing
    records in batches, records that exist (enrollments made since, an earlier term's seeding) by a
    put conditioned on the version read. A completed enrollment keeps its place in the schedule, as
    the API's completions leave it. Returns how many schedules and transcripts were written."""
    schedule_entries: dict[tuple[str, int], dict[str, Any]] = {}
    transcript_entries: dict[str, dict[str, str]] = {}
    for enrollment in enrollments:
        course = courses[enrollment.course_id]
        schedule_entries.setdefault((enrollment.user_id, enrollment.semester_id), {})[course.course_id] = (
            schedule_entry(course)
        )
        key = transcript_key(course_code=course.course_code, semester_id=enrollment.semester_id)
        transcript_entries.setdefault(enrollment.user_id, {})[key] = enrollment.status

    schedules_written = 0
    for keys in chunks(sorted(schedule_entries)):
        found = batch_get_items([(Schedule, key) for key in keys])
        with Schedule.batch_write() as batch:
            for (user_id, semester_id), schedule in zip(keys, found, strict=True):
                entries = schedule_entries[(user_id, semester_id)]
                if schedule is None:
                    batch.save(_schedule(user_id, semester_id, courses=entries, version=1, now=now))
                elif not entries.items() <= schedule.courses.items():
                    merged = _schedule(
                        user_id,
                        semester_id,
                        courses={**schedule.courses, **entries},
                        version=int(schedule.version) + 1,
                        now=now,
                    )
                    merged.save(condition=Schedule.version == int(schedule.version))
                else:
                    continue
                schedules_written += 1

    transcripts_written = 0
    found = batch_get(Transcript, sorted(transcript_entries), consistent_read=True)
    with Transcript.batch_write() as batch:
        for user_id in sorted(transcript_entries):
            entries, transcript = transcript_entries[user_id], found.get(user_id)
            if transcript is None:
                batch.save(Transcript(user_id=user_id, entries=entries, version=1, updated_at=now))
            elif not entries.items() <= transcript.entries.items():
                Transcript(
                    user_id=user_id,
                    entries={**transcript.entries, **entries},
                    version=int(transcript.version) + 1,
                    updated_at=now,
                ).save(condition=Transcript.version == int(transcript.version))
            else:
                continue
            transcripts_written += 1
    return schedules_written, transcripts_written


def _schedule(user_id: str, semester_id: int, *, courses: dict[str, Any], version: int, now: datetime) -> Schedule:
    return Schedule(
        user_id=user_id,
        semester_id=semester_id,
        courses=courses,
        enrolled_credits=enrolled_credits(courses),
        version=version,
        updated_at=now,
    )
