"""Load deterministic demo data with batch writes, writing only what is missing.

Running it twice changes nothing the second time, and it never overwrites an item that exists, so
enrollments made through the API since the last run keep their seat counts. The one exception is
the semesters' windows, which follow the calendar: each run moves them so that the demo's current
semester is open now (demo/calendar.py).
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from tqdm import tqdm

from accounts.models import User, UserEmail
from courseproject.dynamo.batch import BATCH_GET_LIMIT, batch_get
from courses.models import Course
from demo.catalogue import DemoCourse, DemoEnrollment
from demo.dataset import DemoDataset
from demo.logins import DEMO_PASSWORD
from demo.options import add_dataset_arguments, dataset_from_options, instructor_count
from demo.records import chunks, write_semesters, write_student_records
from enrollments.models import Enrollment, enrollment_id_for


class Command(BaseCommand):
    help = (
        "Load demo semesters, instructors, students, courses, enrollments, schedules and transcripts "
        "(idempotent, deterministic for a given day)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_dataset_arguments(parser)
        parser.add_argument("--no-progress", action="store_true", help="No progress bar (for logs).")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.SEED_DEMO_ALLOWED:
            raise CommandError(
                "seed_demo refuses to run under production settings: it creates admin@demo.edu and other "
                "accounts with a published password. On a staging stack seeded for a load test, set "
                "SEED_DEMO_ALLOWED=true."
            )
        started = time.monotonic()
        dataset = dataset_from_options(options)
        now = timezone.now()
        created_semesters, updated_semesters = write_semesters(dataset.semesters, actor_id=dataset.users[0].user_id)
        total = len(dataset.users) + len(dataset.courses) + dataset.enrollment_count
        with tqdm(total=total, unit="item", desc="seed_demo", disable=options["no_progress"]) as progress:
            new_users = self._write_users(dataset, progress)
            new_courses, new_enrollments, schedules, transcripts = self._write_courses(dataset, progress)
        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data: {len(dataset.users)} users ({new_users} new), {len(dataset.courses)} courses "
                f"({new_courses} new), {dataset.enrollment_count} enrollments ({new_enrollments} new), "
                f"{schedules} schedules and {transcripts} transcripts written, {len(dataset.semesters)} semesters "
                f"({created_semesters} new, {updated_semesters} with windows moved) in {elapsed:.1f} s."
            )
        )
        self.stdout.write(
            f"Demo logins (password {DEMO_PASSWORD!r}): admin@demo.edu, instructor1@demo.edu .. "
            f"instructor{instructor_count(options)}@demo.edu, student1@demo.edu .. "
            f"student{options['students']}@demo.edu\n"
            f"Semesters (credit limit {dataset.credit_limit} unless an admin changed it):"
        )
        for semester in dataset.semesters:
            self.stdout.write(f"  {semester.describe(now)}")
        if dataset.showcase is not None:
            self.stdout.write('The examples in docs/api.md: eval "$(.venv/bin/python manage.py demo_examples)"')

    def _write_users(self, dataset: DemoDataset, progress: tqdm) -> int:
        # One PBKDF2 hash shared by every demo account: hashing thousands separately takes minutes.
        password_hash = make_password(DEMO_PASSWORD)
        written = 0
        for chunk in chunks(dataset.users, BATCH_GET_LIMIT):
            existing = batch_get(User, [user.user_id for user in chunk])
            claims = batch_get(UserEmail, [user.email for user in chunk])
            missing = []
            for user in chunk:
                if user.user_id in existing:
                    continue
                claim = claims.get(user.email)
                if claim is not None and claim.user_id != user.user_id:
                    self.stderr.write(f"skipping demo user {user.email}: the email belongs to another account")
                    continue
                missing.append(user)
            with UserEmail.batch_write() as email_batch, User.batch_write() as user_batch:
                for user in missing:
                    email_batch.save(UserEmail(email=user.email, user_id=user.user_id))
                    user_batch.save(
                        User(
                            user_id=user.user_id,
                            email=user.email,
                            name=user.name,
                            role=user.role,
                            password_hash=password_hash,
                            is_active=True,
                            created_at=user.created_at,
                            updated_at=user.created_at,
                        )
                    )
            written += len(missing)
            progress.update(len(chunk))
        return written

    def _write_courses(self, dataset: DemoDataset, progress: tqdm) -> tuple[int, int, int, int]:
        """The missing courses with their seeded enrollments, in the order that keeps every record
        true even after an interrupted run: the enrollments first, then the students' schedules and
        transcripts, then the courses with seat counters that match. A course that exists is left
        alone, and so are its enrollments: the next run finds it and writes nothing for it."""
        missing: list[Course] = []
        for chunk in chunks(dataset.courses, BATCH_GET_LIMIT):
            existing = batch_get(Course, [course.course_id for course in chunk])
            missing += [self._course(course, dataset) for course in chunk if course.course_id not in existing]
        enrollments: list[DemoEnrollment] = [
            seeded for course in missing for seeded in dataset.enrollments_by_course.get(course.course_id, [])
        ]
        with Enrollment.batch_write() as enrollment_batch:
            for seeded in enrollments:
                enrollment_batch.save(
                    Enrollment(
                        enrollment_id=enrollment_id_for(user_id=seeded.user_id, course_id=seeded.course_id),
                        user_id=seeded.user_id,
                        course_id=seeded.course_id,
                        semester_id=seeded.semester_id,
                        status=seeded.status,
                        enrolled_at=seeded.enrolled_at,
                        updated_at=seeded.enrolled_at,
                    )
                )
        progress.update(len(enrollments))
        schedules, transcripts = write_student_records(
            enrollments, courses={course.course_id: course for course in missing}, now=timezone.now()
        )
        with Course.batch_write() as course_batch:
            for course in missing:
                course_batch.save(course)
        progress.update(len(dataset.courses))
        return len(missing), len(enrollments), schedules, transcripts

    @staticmethod
    def _course(course: DemoCourse, dataset: DemoDataset) -> Course:
        return Course(
            course_id=course.course_id,
            course_code=course.course_code,
            title=course.title,
            description=course.description,
            semester_id=course.semester_id,
            department_id=course.department_id,
            instructor_id=course.instructor_id,
            credits=course.credits,
            capacity=course.capacity,
            enrolled_count=len(dataset.enrollments_by_course.get(course.course_id, [])),
            meetings=course.meetings,
            prerequisites=course.prerequisites,
            created_at=course.created_at,
            updated_at=course.created_at,
        )
