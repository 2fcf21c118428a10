"""Completions imported from the registrar's CSV file (columns: student email, course code,
semester), first checked in a dry run that says what each row would do, then applied.

A row whose student is enrolled in the course marks that enrollment completed; a row whose student
is not enrolled (never was, or dropped) records the course as completed in their transcript for
that semester; either way the course then satisfies prerequisites. A row already applied is
`already_completed`, so importing a file twice changes nothing the second time.

Reads come in BatchGetItem chunks of 100 (emails, users, enrollments, transcripts, semesters) and
one query per distinct course code. Writes are one small transaction per student (their rows'
enrollments and their transcript, conditioned like every enroll and drop), never one transaction
for the file: a transaction holds at most 100 items.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.utils import timezone
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from accounts.models import Actor, Role, User, UserEmail
from courseproject.api.errors import ConflictError, PermissionDeniedError
from courseproject.dynamo.batch import batch_get, batch_get_items
from courseproject.dynamo.transactions import commit_transaction
from courses.selectors import courses_with_code
from enrollments.completion_csv import CHANGES, ImportReport, ImportRow, Outcome
from enrollments.completions import announce_completed, mark_completed
from enrollments.events import announce_transcript_recorded
from enrollments.models import Enrollment, EnrollmentStatus, Transcript, enrollment_id_for, transcript_key
from enrollments.records import MAX_ROUNDS, pause_before_round, write_transcript
from semesters.models import Semester

# Enrollment updates per transaction, leaving room for the transcript.
ROWS_PER_TRANSACTION = 99

# --- Deciding what each row does -------------------------------------------------------------------


def _resolve_students(rows: list[ImportRow]) -> None:
    claims = batch_get(UserEmail, {row.email for row in rows}, consistent_read=True)
    users: dict[str, User] = batch_get(User, {claim.user_id for claim in claims.values()}, consistent_read=True)
    for row in rows:
        claim = claims.get(row.email)
        user = users.get(claim.user_id) if claim is not None else None
        if user is None or user.role != Role.STUDENT:
            row.settle(Outcome.UNKNOWN_STUDENT, "No student has this email.")
        else:
            row.user_id = user.user_id


def _resolve_courses(rows: list[ImportRow]) -> None:
    courses = {
        (course.course_code, int(course.semester_id)): course
        for code in sorted({row.course_code for row in rows})
        for course in courses_with_code(course_code=code)
    }
    semesters = batch_get(Semester, {row.semester_id for row in rows}, consistent_read=True)
    now = timezone.now()
    for row in rows:
        row.course = courses.get((row.course_code, row.semester_id))
        semester = semesters.get(row.semester_id)
        if row.course is None:
            row.settle(Outcome.UNKNOWN_COURSE, f"No course {row.course_code} in semester {row.semester_id}.")
        elif semester is None or not semester.drop_deadline_passed(now):
            row.settle(Outcome.SEMESTER_NOT_OVER, "Completions are recorded once the semester's drop deadline passed.")


def _classify(row: ImportRow, *, enrollment: Enrollment | None, transcript: Transcript | None) -> None:
    key = transcript_key(course_code=row.course_code, semester_id=row.semester_id)
    if enrollment is not None and enrollment.status == EnrollmentStatus.ENROLLED:
        row.settle(Outcome.COMPLETED)
    elif (enrollment is not None and enrollment.status == EnrollmentStatus.COMPLETED) or (
        transcript is not None and transcript.entries.get(key) == EnrollmentStatus.COMPLETED
    ):
        row.settle(Outcome.ALREADY_COMPLETED)
    else:
        row.settle(Outcome.RECORDED)


def _enrollment_id(row: ImportRow) -> str:
    return enrollment_id_for(user_id=row.user_id, course_id=row.course.course_id)


@dataclass(frozen=True)
class _StudentReads:
    """What the plan read of the rows' students, for apply_import to write against."""

    enrollments: dict[str, Enrollment]
    transcripts: dict[str, Transcript]


def _plan(rows: list[ImportRow]) -> _StudentReads:
    first_line: dict[tuple[str, str, int], int] = {}
    for row in rows:
        if row.outcome is None:
            key = (row.email, row.course_code, row.semester_id)
            if key in first_line:
                row.settle(Outcome.DUPLICATE, f"Same as line {first_line[key]}.")
            first_line.setdefault(key, row.line)
    _resolve_students([row for row in rows if row.outcome is None])
    _resolve_courses([row for row in rows if row.outcome is None])
    pending = [row for row in rows if row.outcome is None]
    reads = _StudentReads(
        enrollments=batch_get(Enrollment, [_enrollment_id(row) for row in pending], consistent_read=True),
        transcripts=batch_get(Transcript, {row.user_id for row in pending}, consistent_read=True),
    )
    for row in pending:
        _classify(
            row, enrollment=reads.enrollments.get(_enrollment_id(row)), transcript=reads.transcripts.get(row.user_id)
        )
    return reads


def plan_import(rows: list[ImportRow]) -> ImportReport:
    """What each row would do, from the current data: the dry run, which writes nothing."""
    _plan(rows)
    return ImportReport(rows=rows, applied=False)


# --- Applying it ---------------------------------------------------------------------------------------


def _commit_for_student(
    *,
    actor: Actor,
    user_id: str,
    rows: list[ImportRow],
    enrollments: dict[str, Enrollment],
    transcript: Transcript | None,
) -> bool:
    """One transaction: the rows' enrollments completed and their transcript entries; False when one
    of them changed since it was read (the caller reads again)."""
    now = timezone.now()
    completing = [row for row in rows if row.outcome == Outcome.COMPLETED]
    entries = {
        **(transcript.entries if transcript is not None else {}),
        **{
            transcript_key(course_code=row.course_code, semester_id=row.semester_id): EnrollmentStatus.COMPLETED.value
            for row in rows
            if row.outcome in CHANGES
        },
    }

    def build(transaction: TransactWrite) -> None:
        for row in completing:
            mark_completed(transaction, enrollment_id=_enrollment_id(row), now=now)
        write_transcript(transaction, user_id=user_id, read=transcript, entries=entries, now=now)

    try:
        commit_transaction(build)
    except TransactWriteError as error:
        if any(reason is not None and reason.code == "ConditionalCheckFailed" for reason in error.cancellation_reasons):
            return False
        raise
    for row in completing:
        announce_completed(enrollments[_enrollment_id(row)], actor=actor, now=now)
    if recorded := [row for row in rows if row.outcome == Outcome.RECORDED]:
        announce_transcript_recorded(
            user_id=user_id,
            actor_id=actor.user_id,
            courses=[{"course_code": row.course_code, "semester_id": row.semester_id} for row in recorded],
            source="completion_import",
        )
    return True


def _apply_for_student(
    *,
    actor: Actor,
    user_id: str,
    rows: list[ImportRow],
    enrollments: dict[str, Enrollment],
    transcript: Transcript | None,
) -> None:
    for round_number in range(MAX_ROUNDS):
        if round_number:
            # Someone changed the student's records meanwhile: read them again and decide again.
            pause_before_round(round_number)
            *fresh, transcript = batch_get_items(
                [*((Enrollment, _enrollment_id(row)) for row in rows), (Transcript, user_id)]
            )
            enrollments = {enrollment.enrollment_id: enrollment for enrollment in fresh if enrollment is not None}
            for row in rows:
                _classify(row, enrollment=enrollments.get(_enrollment_id(row)), transcript=transcript)
        if not any(row.outcome in CHANGES for row in rows):
            return
        if _commit_for_student(actor=actor, user_id=user_id, rows=rows, enrollments=enrollments, transcript=transcript):
            return
    raise ConflictError(
        "A student's records kept changing during the import; import the file again (it is idempotent).",
        code="transaction_conflict",
    )


def apply_import(*, actor: Actor, rows: list[ImportRow]) -> ImportReport:
    """Plan, then apply the rows that change something, one student (and transaction) at a time."""
    if not actor.is_admin:
        raise PermissionDeniedError("Only admins import completions.")
    reads = _plan(rows)
    by_student: dict[str, list[ImportRow]] = defaultdict(list)
    for row in rows:
        if row.outcome in CHANGES:
            by_student[row.user_id].append(row)
    for user_id, student_rows in by_student.items():
        for start in range(0, len(student_rows), ROWS_PER_TRANSACTION):
            # A later chunk of the same student reads the transcript the earlier one wrote.
            transcript = reads.transcripts.get(user_id) if start == 0 else batch_get_items([(Transcript, user_id)])[0]
            _apply_for_student(
                actor=actor,
                user_id=user_id,
                rows=student_rows[start : start + ROWS_PER_TRANSACTION],
                enrollments=reads.enrollments,
                transcript=transcript,
            )
    return ImportReport(rows=rows, applied=True)
