"""manage.py backfill_semesters: give every semester that has courses but no record a record with the
default rules (semesters/defaults.py), and its students the schedules and transcript entries the
registration rules read (enrollments/backfill.py), since its enrollments predate them. Idempotent:
a semester with a record is never touched. It lives with the enrollments because it rebuilds their
records; the semesters app knows nothing of courses or enrollments. Records are created by the
semester service, as an admin's would be: the cache learns of them at once and the audit log shows
them, done by "backfill_semesters".

Without a Scan: it asks the CoursesBySemester index, one Query of one item per candidate semester,
for every semester from --from-year to five years ahead (about 90 Queries for 2000 onwards), plus
any given with --semester.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import Actor, Role
from courseproject.api.errors import ConflictError
from courseproject.dynamo.batch import batch_get
from courseproject.ids import MAX_SEMESTER_ID, consecutive_semesters, semester_of
from courses.models import Course
from enrollments.backfill import rebuild_semester_records
from semesters.defaults import default_rules
from semesters.models import Semester
from semesters.services import create_semester

YEARS_AHEAD = 5
# Who the audit log says created the records: this command, with an admin's rights.
BACKFILL_ACTOR = Actor(user_id="backfill_semesters", role=Role.ADMIN)


class Command(BaseCommand):
    help = "Create a record with the default rules for every semester that has courses but none."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from-year", type=int, default=2000, help="The first year to look at (default 2000).")
        parser.add_argument("--semester", type=int, action="append", default=[], help="Also this semester id.")
        parser.add_argument("--dry-run", action="store_true", help="Say what would be created; create nothing.")

    def handle(self, *args: Any, from_year: int, semester: list[int], dry_run: bool, **options: Any) -> None:
        outside = [semester_id for semester_id in semester if not 1 <= semester_id <= MAX_SEMESTER_ID]
        if outside:
            raise CommandError(f"--semester must be from 1 to {MAX_SEMESTER_ID}, not {outside[0]}.")
        today = date.today()
        last = semester_of(date(today.year + YEARS_AHEAD, 12, 31))
        first = from_year * 10 + 1
        count = (last // 10 - first // 10) * 3 + 3
        candidates = sorted(set(consecutive_semesters(first, count)) | set(semester))
        recorded = set(batch_get(Semester, candidates, attributes=["semester_id"]))
        with_courses = [
            semester_id for semester_id in candidates if semester_id not in recorded and _has_courses(semester_id)
        ]
        created = 0
        for semester_id in with_courses:
            rules = default_rules(semester_id)
            if dry_run:
                self.stdout.write(f"  would create {semester_id} ({rules['name']})")
                continue
            # The students' records first, the semester's record last: until it exists registration is
            # closed, so no enroll can interleave, and a run stopped half-way is simply run again.
            rebuilt = rebuild_semester_records(semester_id)
            try:
                create_semester(actor=BACKFILL_ACTOR, semester_id=semester_id, **rules)
            except ConflictError:
                continue  # created meanwhile (an admin, or another run): theirs stands
            created += 1
            self.stdout.write(
                f"  created {semester_id} ({rules['name']}); {rebuilt.schedules_written} schedules and "
                f"{rebuilt.transcript_entries_added} transcript entries rebuilt from its enrollments"
            )
        verb = "would create" if dry_run else "created"
        self.stdout.write(
            self.style.SUCCESS(
                f"Semesters: {len(recorded)} recorded, {len(with_courses)} with courses but no record; "
                f"{verb} {len(with_courses) if dry_run else created}."
            )
        )


def _has_courses(semester_id: int) -> bool:
    return next(iter(Course.by_semester.query(semester_id, limit=1)), None) is not None
