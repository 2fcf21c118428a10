"""Enroll and drop: each is one DynamoDB transaction over the seat counter, the enrollment, and the
student's schedule and transcript, after the registration rules passed on what one consistent
BatchGetItem read.

The counter's condition (enrolled_count < capacity) is evaluated by DynamoDB inside the transaction,
so no interleaving of requests, processes or machines can oversell a seat. The enrollment's
condition makes a retried enroll or drop a no-op instead of a double count. The schedule and the
transcript are written on the condition that their `version` is still the one the rules read: when
the same student's requests race, one wins and the others read again and re-check the rules, so
the credit limit, time conflicts and prerequisites hold under concurrency, not only one request at
a time.

Joining and leaving a waitlist take the same path (enrollments/waitlist.py has their transactions);
a direct enroll is conditioned on nobody waiting, so a seat freed while anyone waits is theirs.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.utils import timezone

from accounts.models import Actor
from courseproject.api.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from courseproject.api.rendering import isoformat
from courses.models import Course
from courses.selectors import cached_course
from enrollments.events import announce_enrollment_change
from enrollments.models import Enrollment, EnrollmentStatus, Schedule
from enrollments.records import JOIN_ROUNDS, MAX_ROUNDS, StudentRecords, pause_before_round, read_student_records
from enrollments.rules import check_enroll_rules
from enrollments.serializers import enrollment_representation
from enrollments.transactions import EnrollResult, commit_drop, commit_enroll, course_full, not_enrolled
from enrollments.waitlist import LEFT, commit_join, commit_waitlist_exit, not_waiting


def _schedule_too_busy() -> ConflictError:
    # Every round lost to another request of the same student: rare, and a retry then passes.
    return ConflictError(
        "Too many of your requests are changing your schedule at once; please retry.", code="transaction_conflict"
    )


# --- Enroll --------------------------------------------------------------------------------------


def enroll(
    *,
    actor: Actor,
    course_id: str,
    student_id: str | None = None,
    override_reason: str | None = None,
    waitlist: bool = False,
) -> EnrollResult:
    """Enroll the acting student (or, for an admin, `student_id`); enrolling again while enrolled or
    waitlisted returns the existing record before any rule is checked, so a retried request never
    fails on one.

    With `waitlist`, a course with no seat for a new student (all taken, or someone already waiting
    for a freed one) puts the student at the end of its waitlist instead of answering course_full;
    the rules are checked all the same, then the waitlist's own limits.

    An admin may enroll a student past the window, prerequisite, conflict and credit rules (never
    past capacity) by giving `override_reason`, which the audit log keeps.
    """
    if actor.is_admin and student_id is not None:
        user_id = student_id
    elif actor.is_student and student_id in (None, actor.user_id):
        if settings.EMAIL_VERIFICATION_REQUIRED and not actor.email_verified:
            raise PermissionDeniedError(
                "Confirm your email address (the link we emailed you) before you enroll.", code="email_unverified"
            )
        user_id = actor.user_id
    else:
        raise PermissionDeniedError("Only students can enroll in courses.")
    if override_reason is not None and not (actor.is_admin and override_reason.strip()):
        raise InvalidInputError("An override needs an admin and a reason.", code="override_reason_required")
    # The semester never changes, so the cached course is good enough to find it; everything the
    # rules read comes from the consistent BatchGetItem below.
    semester_id = int(cached_course(course_id=course_id)["semester_id"])
    # Joins take the course's waitlist sequence in turn: more rounds, as many join one course at once.
    for round_number in range(JOIN_ROUNDS if waitlist else MAX_ROUNDS):
        if round_number:
            pause_before_round(min(round_number, 4) if waitlist else round_number)
        records = read_student_records(user_id=user_id, course_id=course_id, semester_id=semester_id)
        if (existing := _existing_enrollment(records)) is not None:
            return existing
        now = timezone.now()
        if override_reason is None:
            check_enroll_rules(
                records.course,
                semester=records.semester,
                schedule=records.schedule,
                transcript=records.transcript,
                now=now,
            )
        result, action = _commit_enroll_or_join(
            user_id=user_id, records=records, semester_id=semester_id, now=now, waitlist=waitlist
        )
        if result is not None:
            if result.created:
                announce_enrollment_change(
                    action=action,
                    actor_id=actor.user_id,
                    enrollment=result.enrollment,
                    before=None,
                    override_reason=override_reason,
                )
            return result
    raise _schedule_too_busy()


def _existing_enrollment(records: StudentRecords) -> EnrollResult | None:
    """What an enroll answers before any rule: the record it already has, or why it cannot have one."""
    if records.course is None:
        raise NotFoundError("Course not found.", code="course_not_found")
    existing = records.enrollment
    if existing is not None and existing.status in (EnrollmentStatus.ENROLLED, EnrollmentStatus.WAITLISTED):
        return EnrollResult(enrollment=existing, created=False)
    if existing is not None and existing.status == EnrollmentStatus.COMPLETED:
        raise ConflictError("You have completed this course already.", code="already_completed")
    return None


def _commit_enroll_or_join(
    *, user_id: str, records: StudentRecords, semester_id: int, now: datetime, waitlist: bool
) -> tuple[EnrollResult | None, str]:
    """Take the seat, or with `waitlist` a place at the end of a full course's waitlist; the result
    (None: read again) and the action to announce."""
    if records.course.seats_available == 0:
        if waitlist:
            check_waitlist_limit(records.schedule)
            return commit_join(user_id=user_id, records=records, semester_id=semester_id, now=now), "waitlisted"
        # The consistent read saw no seat for a new student: the transaction's answer, without its cost
        # (most enrolls of a rush, once the popular courses are full).
        raise course_full(records.course)
    try:
        return commit_enroll(user_id=user_id, records=records, semester_id=semester_id, now=now), "enrolled"
    except ConflictError as refusal:
        if waitlist and refusal.code == "course_full":
            return None, "enrolled"  # the last seat went meanwhile: read again and join the waitlist
        raise


def check_waitlist_limit(schedule: Schedule | None) -> None:
    waiting = len((schedule.waitlists or {}) if schedule is not None else {})
    limit = settings.MAX_WAITLISTS_PER_SEMESTER
    if waiting >= limit:
        raise ConflictError(
            f"You are on {waiting} waitlists this semester, the most allowed; leave one to join another.",
            code="waitlist_limit_reached",
            context={"max_waitlists": limit},
        )


# --- Drop ----------------------------------------------------------------------------------------


def drop(*, actor: Actor, user_id: str, course_id: str) -> Enrollment:
    """Drop a student's enrollment (the record stays with status `dropped` and frees the seat), or take
    them off the course's waitlist (`waitlist_left`; no seat changes hands).

    A student drops their own enrollment until the semester's drop deadline, and leaves a waitlist
    whenever they like; an admin (through the admin site) may do either for anyone, at any time.
    """
    if actor.user_id != user_id and not actor.is_admin:
        # Someone else's enrollment does not exist as far as the caller may know.
        raise not_enrolled()
    try:
        semester_id = int(cached_course(course_id=course_id)["semester_id"])
    except NotFoundError:
        raise not_enrolled() from None
    for round_number in range(MAX_ROUNDS):
        if round_number:
            pause_before_round(round_number)
        records = read_student_records(user_id=user_id, course_id=course_id, semester_id=semester_id)
        enrollment = records.enrollment
        if enrollment is not None and enrollment.status == EnrollmentStatus.WAITLISTED:
            try:
                left = _leave(actor=actor, records=records)
            except NotFoundError:
                continue  # promoted or skipped meanwhile: read again (a promoted student drops)
            if left is not None:
                return left
            continue
        if enrollment is None or enrollment.status != EnrollmentStatus.ENROLLED:
            raise not_enrolled()
        now = timezone.now()
        semester = records.semester
        if semester is not None and semester.drop_deadline_passed(now) and not actor.is_admin:
            raise ConflictError(
                f"The drop deadline passed at {isoformat(semester.drop_deadline)}.",
                code="drop_deadline_passed",
                context={"drop_deadline": isoformat(semester.drop_deadline)},
            )
        if commit_drop(records=records, semester_id=semester_id, now=now):
            before = enrollment_representation(enrollment)
            enrollment.status = EnrollmentStatus.DROPPED.value
            enrollment.dropped_at = now
            enrollment.updated_at = now
            announce_enrollment_change(
                action="dropped",
                actor_id=actor.user_id,
                enrollment=enrollment,
                before=before,
                seat_for_waitlist=_someone_may_wait(records.course),
            )
            return enrollment
    raise _schedule_too_busy()


def _someone_may_wait(course: Course | None) -> bool:
    """Whether the seat a drop frees may be wanted by the waitlist: someone waited when the drop read
    the course, or it was full, so someone may have joined since (a join needs a full course or a
    waitlist). Otherwise the seat is anyone's and no promoter need look; in the rare interleaving
    where the course filled and someone joined between the drop's read and its commit, the sweep
    gives them the seat."""
    return course is None or int(course.waitlisted_count or 0) > 0 or int(course.enrolled_count) >= int(course.capacity)


def leave_waitlist(*, actor: Actor, user_id: str, course_id: str) -> Enrollment:
    """Take a student off a course's waitlist (the student, or an admin removing them), and nothing
    else: a student promoted meanwhile keeps the seat (404 not_waitlisted)."""
    if actor.user_id != user_id and not actor.is_admin:
        raise not_waiting()
    try:
        semester_id = int(cached_course(course_id=course_id)["semester_id"])
    except NotFoundError:
        raise not_waiting() from None
    for round_number in range(MAX_ROUNDS):
        if round_number:
            pause_before_round(round_number)
        records = read_student_records(user_id=user_id, course_id=course_id, semester_id=semester_id)
        if records.enrollment is None or records.enrollment.status != EnrollmentStatus.WAITLISTED:
            raise not_waiting()
        if (left := _leave(actor=actor, records=records)) is not None:
            return left
    raise _schedule_too_busy()


def _leave(*, actor: Actor, records: StudentRecords) -> Enrollment | None:
    """One attempt; None when the student's schedule changed meanwhile (read again)."""
    before = enrollment_representation(records.enrollment)
    left = commit_waitlist_exit(records=records, outcome=LEFT, now=timezone.now())
    if left is not None:
        announce_enrollment_change(action=LEFT.action, actor_id=actor.user_id, enrollment=left, before=before)
    return left
