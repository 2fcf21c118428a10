"""manage.py check_counters [--semester N ...] [--fix]: compare every seat and waitlist counter of the
courses, and every schedule's credits, courses and waitlists, with the enrollment records; print a
line per difference and a summary, and exit 1 when a difference is left (cron alerts on it). With
--fix, repair each with a write conditioned on the revision or version read, so a write racing the
repair is never overwritten (the line then says "changed while checking; run again").

Reads whole tables (a paginated Scan of Courses, Schedules and Enrollments, one pass each;
enrollments/counters.py says why that is safe): run it off-peak, and narrow it with --semester.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from courseproject.ids import MAX_SEMESTER_ID
from enrollments.counters import CheckedItem, check_counters


class Command(BaseCommand):
    help = "Check the courses' and schedules' counters against the enrollment records; --fix repairs them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--semester", type=int, action="append", default=[], help="Only this semester (repeat).")
        parser.add_argument("--fix", action="store_true", help="Repair each difference found.")

    def handle(self, *args: Any, semester: list[int], fix: bool, **options: Any) -> None:
        outside = [semester_id for semester_id in semester if not 1 <= semester_id <= MAX_SEMESTER_ID]
        if outside:
            raise CommandError(f"--semester must be from 1 to {MAX_SEMESTER_ID}, not {outside[0]}.")

        def write_item(item: CheckedItem) -> None:
            for line in item.lines():
                self.stdout.write(line)

        report = check_counters(semesters=semester or None, fix=fix, on_item=write_item)
        checked = f"Checked {report.courses} courses, {report.schedules} schedules, {report.enrollments} enrollments"
        if not report.differences:
            self.stdout.write(self.style.SUCCESS(f"{checked}: no differences."))
            return
        outcome = f"{report.fixed} fixed, {report.changed} changed while checking" if fix else "none fixed"
        summary = f"{checked}: {report.differences} differences ({outcome})."
        self.stdout.write(self.style.SUCCESS(summary) if not report.unfixed else self.style.WARNING(summary))
        if report.unfixed:
            if not fix:
                advice = "run with --fix to repair them"
            else:
                advice = "run again" if report.changed == report.unfixed else "see the lines above"
            raise CommandError(f"{report.unfixed} differences left; {advice}.", returncode=1)
