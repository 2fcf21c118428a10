"""A student's page in the admin: their schedule in each semester (courses with credits and meetings,
the semester's credit total and limit), their transcript (completed courses, transfer credit
included, and courses in progress), and what other apps add to it (the audit app: the overrides);
and the form that records transfer credit.

Reads: the user, one Query of their schedules, one BatchGetItem of those semesters and the
transcript, the schedules' courses from the entity cache, and one Query per added panel.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_safe

from accounts.admin_sign_in import actor_of
from accounts.models import Role, User
from accounts.selectors import user_by_id
from courseproject.adminsite.forms import FormPage, form_page
from courseproject.adminsite.pages import render_page
from courseproject.adminsite.times import university_time, university_zone
from courseproject.adminsite.urls import admin_url
from courseproject.api.errors import InvalidInputError
from courses.admin_fields import meetings_as_text
from courses.selectors import cached_courses, courses_with_code
from enrollments.admin_display import semester_label
from enrollments.completions import record_transfer_credit
from enrollments.models import EnrollmentStatus
from enrollments.selectors import AcademicRecord, academic_record
from enrollments.serializers import TransferCreditSerializer


@dataclass(frozen=True)
class StudentPanel:
    """A table another app adds to a student's page; a row's first cell links to its url, if any."""

    title: str
    columns: list[str]
    rows: list[tuple[list[Any], str | None]]
    empty_message: str
    more_url: str | None = None


# The apps that depend on this one add to the page (audit: the overrides), so it never imports them.
_student_panels: list[Callable[[HttpRequest, str], StudentPanel]] = []


def register_student_panel(panel: Callable[[HttpRequest, str], StudentPanel]) -> None:
    """Add a table to every student's page: `panel(request, user_id)` builds it."""
    if panel not in _student_panels:
        _student_panels.append(panel)


@dataclass
class ScheduleView:
    title: str
    credits: str
    rows: list[dict[str, Any]] = field(default_factory=list)


def _schedules(record: AcademicRecord) -> list[ScheduleView]:
    course_ids = [course_id for entry in record.schedules for course_id in entry.schedule.courses]
    courses = cached_courses(course_ids=course_ids)
    views = []
    for entry in record.schedules:
        semester_id, semester = int(entry.schedule.semester_id), entry.semester
        limit = f" of {int(semester.credit_limit)}" if semester is not None else " (the semester has no record)"
        view = ScheduleView(
            title=f"{semester.name} ({semester_id})" if semester is not None else semester_label(semester_id),
            credits=f"{int(entry.schedule.enrolled_credits)}{limit}",
        )
        for course_id, held in sorted(entry.schedule.courses.items(), key=lambda item: item[1]["course_code"]):
            course = courses.get(course_id)
            title = course["title"] if course else "(deleted)"
            view.rows.append(
                {
                    "name": f"{held['course_code']} {title}",
                    "url": admin_url("courses_course_change", course_id) if course else None,
                    "credits": int(held["credits"]),
                    "meetings": meetings_as_text(held.get("meetings") or [], separator="; ") or "-",
                }
            )
        views.append(view)
    return views


def _transcript(record: AcademicRecord) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(completed, in progress): each (course code, semester), newest semester first."""
    entries = record.transcript.entries if record.transcript is not None else {}
    completed, in_progress = [], []
    for key, status in sorted(entries.items(), key=lambda item: (-int(item[0].rpartition("#")[2]), item[0])):
        code, _, semester_id = key.rpartition("#")
        target = completed if status == EnrollmentStatus.COMPLETED else in_progress
        target.append((code, semester_label(int(semester_id))))
    return completed, in_progress


def _student_or_redirect(request: HttpRequest, user_id: str) -> User | HttpResponse:
    user = user_by_id(user_id=user_id)
    if user is None or user.role != Role.STUDENT:
        messages.warning(request, f"No student has the id “{user_id}”.")
        return HttpResponseRedirect(admin_url("enrollments_enrollment_changelist"))
    return user


def _breadcrumbs(user: User | None = None) -> list[tuple[str, str]]:
    crumbs = [
        ("Enrollments", admin_url("app_list", "enrollments")),
        ("Enrollments", admin_url("enrollments_enrollment_changelist")),
    ]
    if user is not None:
        crumbs.append((user.email, admin_url("enrollments_student", user.user_id)))
    return crumbs


def student_tools(user_id: str) -> list[tuple[str, str]]:
    return [
        ("Enrollments", admin_url("enrollments_enrollment_changelist", query={"student": user_id})),
        ("Enroll in a course…", admin_url("enrollments_enrollment_enroll", query={"student": user_id})),
        ("Record transfer credit…", admin_url("enrollments_student_transfer_credit", user_id)),
        ("History", admin_url("audit_auditrecord_changelist", query={"entity": f"user:{user_id}"})),
    ]


@require_safe
def student_page(request: HttpRequest, user_id: str) -> HttpResponse:
    user = _student_or_redirect(request, user_id)
    if isinstance(user, HttpResponse):
        return user
    record = academic_record(user_id=user_id)
    completed, in_progress = _transcript(record)
    return render_page(
        request,
        "enrollments/admin/student.html",
        title=f"{user.name} <{user.email}>",
        breadcrumbs=_breadcrumbs(),
        student=user,
        object_tools=student_tools(user_id),
        zone=university_zone().key,
        schedules=_schedules(record),
        completed=completed,
        in_progress=in_progress,
        transcript_updated=university_time(record.transcript.updated_at) if record.transcript else None,
        panels=[panel(request, user_id) for panel in _student_panels],
    )


# --- Transfer credit ---------------------------------------------------------------------------------


class TransferCreditForm(forms.Form):
    course_code = forms.CharField(
        max_length=20, help_text="The code of our course it counts as, like CS 101. It satisfies prerequisites."
    )


def _record_transfer_credit(request: HttpRequest, user: User, course_code: str) -> str:
    if not courses_with_code(course_code=course_code):
        raise InvalidInputError("No course in any semester has this code.", field="course_code")
    record_transfer_credit(actor=actor_of(request), user_id=user.user_id, course_code=course_code)
    return course_code


def transfer_credit(request: HttpRequest, user_id: str) -> HttpResponse:
    user = _student_or_redirect(request, user_id)
    if isinstance(user, HttpResponse):
        return user

    def recorded(course_code: str) -> HttpResponse:
        messages.success(request, f"Transfer credit for {course_code} was recorded for {user.name}.")
        return HttpResponseRedirect(admin_url("enrollments_student", user_id))

    return form_page(
        request,
        form=TransferCreditForm(request.POST or None),
        api_serializer=lambda cleaned: TransferCreditSerializer(data=cleaned),
        service=lambda validated: _record_transfer_credit(request, user, validated["course_code"]),
        on_saved=recorded,
        page=FormPage(
            title=f"Record transfer credit for {user.name}",
            breadcrumbs=_breadcrumbs(user),
            readonly=[("Student", f"{user.name} <{user.email}>")],
            can_continue=False,
            submit_label="Record",
        ),
    )
