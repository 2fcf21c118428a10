"""Load deterministic demo data with batch writes, writing only what is missing.

Running it twice changes nothing the second time, and it never overwrites an item that exists, so
enrollments made through the API since the last run keep their seat counts.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm

from accounts.models import User, UserEmail
from courseproject.dynamo.batch import BATCH_GET_LIMIT, batch_get
from courses.models import Course
from demo.dataset import DEMO_PASSWORD, DemoDataset, build_demo_dataset
from enrollments.models import Enrollment, EnrollmentStatus, enrollment_id_for

ItemT = TypeVar("ItemT")


def chunks(items: Sequence[ItemT], size: int) -> Iterator[Sequence[ItemT]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def count(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return number


def positive_count(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return number


class Command(BaseCommand):
    help = "Load demo semesters, instructors, students, courses and enrollments (idempotent, deterministic)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--courses", type=count, default=300)
        parser.add_argument("--students", type=count, default=60)
        parser.add_argument("--enrollments", type=count, default=400)
        parser.add_argument(
            "--instructors", type=positive_count, default=None, help="Default: one per 30 courses, at least 5."
        )
        parser.add_argument("--semesters", type=positive_count, default=3)
        parser.add_argument("--departments", type=positive_count, default=20)
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--no-progress", action="store_true", help="No progress bar (for logs).")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        instructors = options["instructors"] or max(5, options["courses"] // 30)
        dataset = build_demo_dataset(
            courses=options["courses"],
            students=options["students"],
            enrollments=options["enrollments"],
            instructors=instructors,
            semesters=options["semesters"],
            departments=options["departments"],
            seed=options["seed"],
        )
        total = len(dataset.users) + len(dataset.courses) + dataset.enrollment_count
        with tqdm(total=total, unit="item", desc="seed_demo", disable=options["no_progress"]) as progress:
            new_users = self._write_users(dataset, progress)
            new_courses, new_enrollments = self._write_courses(dataset, progress)
        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data: {len(dataset.users)} users ({new_users} new), {len(dataset.courses)} courses "
                f"({new_courses} new), {dataset.enrollment_count} enrollments ({new_enrollments} new) "
                f"in {elapsed:.1f} s."
            )
        )
        semesters = sorted({course.semester_id for course in dataset.courses})
        self.stdout.write(
            f"Demo logins (password {DEMO_PASSWORD!r}): admin@demo.edu, instructor1@demo.edu .. "
            f"instructor{instructors}@demo.edu, student1@demo.edu .. student{options['students']}@demo.edu\n"
            f"Semesters: {', '.join(str(semester) for semester in semesters)}"
        )

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

    def _write_courses(self, dataset: DemoDataset, progress: tqdm) -> tuple[int, int]:
        """A course and its seeded enrollments are written together, enrollments first, so that the
        seat counter written with the course always matches the records, even after an interrupted run."""
        new_courses = new_enrollments = 0
        for chunk in chunks(dataset.courses, BATCH_GET_LIMIT):
            existing = batch_get(Course, [course.course_id for course in chunk])
            missing = [course for course in chunk if course.course_id not in existing]
            with Enrollment.batch_write() as enrollment_batch:
                for course in missing:
                    for seeded in dataset.enrollments_by_course.get(course.course_id, []):
                        enrollment_batch.save(
                            Enrollment(
                                enrollment_id=enrollment_id_for(user_id=seeded.user_id, course_id=seeded.course_id),
                                user_id=seeded.user_id,
                                course_id=seeded.course_id,
                                semester_id=seeded.semester_id,
                                status=EnrollmentStatus.ENROLLED.value,
                                enrolled_at=seeded.enrolled_at,
                                updated_at=seeded.enrolled_at,
                            )
                        )
                        new_enrollments += 1
            with Course.batch_write() as course_batch:
                for course in missing:
                    course_batch.save(
                        Course(
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
                            created_at=course.created_at,
                            updated_at=course.created_at,
                        )
                    )
            new_courses += len(missing)
            progress.update(
                len(chunk) + sum(len(dataset.enrollments_by_course.get(course.course_id, [])) for course in chunk)
            )
        return new_courses, new_enrollments
