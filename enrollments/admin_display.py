"""How the enrollments' admin pages show what the rules are about: a service's refusal in words that
name what failed (instants on the university's clock, courseproject/adminsite/times.py)."""

from __future__ import annotations

from courseproject.adminsite.times import university_time
from courseproject.api.errors import DomainError
from courses.selectors import cached_courses

# The rules an admin may enroll a student past, with a reason (never capacity).
OVERRIDABLE_RULES = {
    "registration_closed": "Registration window",
    "prerequisites_missing": "Prerequisites",
    "time_conflict": "Time conflict",
    "credit_limit_exceeded": "Credit limit",
}
TRANSFER_CREDIT = "Transfer credit"


def semester_label(semester_id: int) -> str:
    return TRANSFER_CREDIT if semester_id == 0 else f"Semester {semester_id}"


def _course_name(course_id: str) -> str:
    course = cached_courses(course_ids=[course_id]).get(course_id)
    return f"{course['course_code']} {course['title']}" if course else course_id


def refusal_message(error: DomainError, *, overriding: bool) -> str:
    """The enroll service's refusal as the admin reads it: the rule, what failed, and what to do."""
    context, code = error.context, error.code
    if code == "registration_closed":
        if context.get("registration_opens_at") is None:
            detail = "Registration for this semester has not been scheduled (the semester has no record)."
        else:
            detail = (
                f"Registration is open from {university_time(context['registration_opens_at'])} "
                f"to the add deadline, {university_time(context['add_deadline'])}."
            )
    elif code == "prerequisites_missing":
        detail = f"The student has neither completed nor taken {', '.join(context['missing_prerequisites'])} before."
    elif code == "time_conflict":
        detail = (
            f"It meets at the same time as {_course_name(context['conflicting_course_id'])}, "
            "which the student is enrolled in."
        )
    elif code == "credit_limit_exceeded":
        detail = (
            f"The student has {context['enrolled_credits']} credits this semester; "
            f"this course would take them past the limit of {context['credit_limit']}."
        )
    elif code == "course_full":
        return "The course is full. No override passes capacity: raise the course's capacity first."
    elif code == "already_completed":
        return "The student has completed this course already."
    else:
        return str(error.detail)
    message = f"{OVERRIDABLE_RULES[code]}: {detail}"
    if not overriding:
        message += " To enroll the student anyway, tick “Override the registration rules” and give the reason."
    return message
