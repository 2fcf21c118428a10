"""A course's waitlist in the admin: a panel on the course's page with who waits, in join order, and
"Remove from waitlist…", which asks, then takes the student off through the waitlist service with the
admin as the actor (status `waitlist_left`, the students behind move up, the removal audited).

Reads: the waitlist is one Query of the sparse WaitlistByCourse index (after a consistent read of the
course's counter, enrollments/waitlist_order.py), and its students come from the profile cache in one
MGET (what is missing, in one BatchGetItem), as the rosters embed them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.html import format_html

from accounts.admin_sign_in import actor_of
from accounts.selectors import cached_profiles
from courseproject.adminsite.lists import Row
from courseproject.adminsite.pages import missing_object_redirect, render_confirmation
from courseproject.adminsite.panels import Panel
from courseproject.adminsite.params import id_param
from courseproject.adminsite.urls import admin_url
from courseproject.api.errors import DomainError, NotFoundError
from courses.admin_fields import waitlist_as_text
from courses.models import Course
from courses.selectors import course_by_id
from enrollments import services
from enrollments.models import EnrollmentStatus
from enrollments.selectors import enrollment_for_student
from enrollments.waitlist_order import read_waitlist_order

REMOVE_PAGE = "courses_course_waitlist_remove"


def remove_url(*, user_id: str, course_id: str) -> str:
    return admin_url(REMOVE_PAGE, course_id, query={"user": user_id})


def _student_label(profile: dict[str, Any] | None, user_id: str) -> str:
    return f"{profile['name']} <{profile['email']}>" if profile else user_id


def waitlist_panel(request: HttpRequest, course: Course) -> Panel:
    """The course's waitlist, first first, for the course's change page."""
    order = read_waitlist_order(course.course_id)
    entries = order.entries if order is not None else []
    students = cached_profiles(user_ids=[entry.user_id for entry in entries])
    rows = [
        Row(
            cells=[
                position,
                format_html(
                    '<a href="{}">{}</a>',
                    admin_url("enrollments_student", entry.user_id),
                    _student_label(students.get(entry.user_id), entry.user_id),
                ),
                entry.waitlisted_at,
            ],
            links=[("Remove from waitlist…", remove_url(user_id=entry.user_id, course_id=course.course_id))],
        )
        for position, entry in enumerate(entries, start=1)
    ]
    return Panel(
        title=f"Waitlist: {waitlist_as_text(order.course if order is not None else course)}",
        columns=["Position", "Student", "Joined at"],
        rows=rows,
        empty_message="Nobody is waiting for a seat."
        if int(course.waitlist_capacity)
        else "This course has no waitlist (its waitlist capacity is 0).",
        notice="In join order: the first is promoted into the next seat that frees up."
        if order is None or order.complete
        else "The waitlist is still being updated; reload the page in a moment to see every student.",
    )


def _waiting_entry(*, user_id: str | None, course_id: str) -> dict[str, Any] | None:
    """The student's enrollment in the course (a consistent read), if they are still waiting."""
    if user_id is None:
        return None
    try:
        entry = enrollment_for_student(user_id=user_id, course_id=course_id)
    except NotFoundError:
        return None
    return entry if entry["status"] == EnrollmentStatus.WAITLISTED else None


def waitlist_remove(request: HttpRequest, course_id: str) -> HttpResponse:
    """Asks, then (POST) takes the student off the course's waitlist and goes back to its page."""
    course = course_by_id(course_id=course_id)
    if course is None:
        return missing_object_redirect(
            request, name="Course", object_id=course_id, list_url=admin_url("courses_course_changelist")
        )
    back = admin_url("courses_course_change", course_id)
    user_id = id_param(request.GET, "user")
    students = cached_profiles(user_ids=[user_id]) if user_id else {}
    # A student promoted meanwhile is enrolled: the page says so (and leave_waitlist would refuse).
    entry = _waiting_entry(user_id=user_id, course_id=course_id) if user_id in students else None
    if entry is None:
        messages.error(request, "That student is not on this course's waitlist (any more).")
        return HttpResponseRedirect(back)
    student, name = students[user_id], f"{course.course_code} {course.title}"
    if request.method == "POST":
        try:
            services.leave_waitlist(actor=actor_of(request), user_id=user_id, course_id=course_id)
        except DomainError as error:
            messages.error(request, str(error.detail))
        else:
            messages.success(request, f"{student['name']} was removed from the waitlist of {name}.")
        return HttpResponseRedirect(back)
    position = entry["waitlist_position"]
    return render_confirmation(
        request,
        title="Are you sure?",
        breadcrumbs=[
            ("Courses", admin_url("app_list", "courses")),
            ("Courses", admin_url("courses_course_changelist")),
            (name, back),
        ],
        question=f"Remove {_student_label(student, user_id)} from the waitlist of {name}? They lose their "
        "place, and the students behind them move up. They are not emailed.",
        details=[
            ("Position", f"{position} of {int(course.waitlisted_count or 0)}" if position else "-"),
            ("Joined at", datetime.fromisoformat(entry["enrolled_at"])),
        ],
        confirm_label="Yes, remove the student",
        cancel_url=back,
    )
