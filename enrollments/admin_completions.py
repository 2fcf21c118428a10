"""Completions in the admin: a course's enrolled students marked completed (all, or the ones ticked)
through the completions service, once the semester's drop deadline has passed; and the
registrar's CSV import, checked in a dry run before it is applied (enrollments/completion_import.py)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone

from accounts.admin_sign_in import actor_of
from accounts.selectors import cached_profiles
from courseproject.adminsite.lists import filter_errors_as_messages, query_with
from courseproject.adminsite.pages import missing_object_redirect, render_page
from courseproject.adminsite.params import cursor_param
from courseproject.adminsite.times import university_time, university_zone
from courseproject.adminsite.urls import admin_url
from courseproject.api.errors import DomainError
from courseproject.api.pagination import Page
from courseproject.ids import ID_PATTERN
from courses.selectors import course_by_id
from enrollments.completion_csv import (
    COLUMNS,
    MAX_FILE_BYTES,
    MAX_ROWS,
    ImportFileError,
    ImportRow,
    parse_completions_csv,
)
from enrollments.completion_import import apply_import, plan_import
from enrollments.completions import complete_course
from enrollments.models import Enrollment, EnrollmentStatus
from enrollments.selectors import enrollment_models_for_course
from enrollments.serializers import CompletionsSerializer
from semesters.selectors import semester_by_id

# Enrolled students listed for ticking; "all enrolled students" reaches the rest.
STUDENTS_SHOWN = 100


def _breadcrumbs() -> list[tuple[str, str]]:
    return [
        ("Enrollments", admin_url("app_list", "enrollments")),
        ("Enrollments", admin_url("enrollments_enrollment_changelist")),
    ]


def _record_completions(request: HttpRequest, course_id: str) -> None:
    """Complete every enrolled student, or the ones ticked; the outcome, or the refusal, as a message."""
    everyone = "_all" in request.POST
    selected = [user_id for user_id in request.POST.getlist("student") if ID_PATTERN.fullmatch(user_id)]
    if not everyone and not selected:
        messages.warning(request, "Tick the students to complete, or complete all enrolled students.")
        return
    if not everyone and len(selected) > CompletionsSerializer.MAX_STUDENTS:
        messages.error(request, f"At most {CompletionsSerializer.MAX_STUDENTS} students at a time.")
        return
    try:
        result = complete_course(actor=actor_of(request), course_id=course_id, user_ids=None if everyone else selected)
    except DomainError as error:
        deadline = error.context.get("drop_deadline")
        messages.error(
            request, f"{error.detail} Drop deadline: {university_time(deadline)}." if deadline else error.detail
        )
        return
    messages.success(
        request,
        f"{len(result.completed)} completed, {len(result.already_completed)} already completed, "
        f"{len(result.not_enrolled)} not enrolled (left as they were).",
    )


def course_completions(request: HttpRequest, course_id: str) -> HttpResponse:
    course = course_by_id(course_id=course_id)
    if course is None:
        return missing_object_redirect(
            request, name="Course", object_id=course_id, list_url=admin_url("courses_course_changelist")
        )
    if request.method == "POST":
        _record_completions(request, course_id)
        return HttpResponseRedirect(admin_url("courses_course_completions", course_id))
    semester = semester_by_id(semester_id=int(course.semester_id))
    page: Page[Enrollment] = Page(items=[], next_cursor=None)
    with filter_errors_as_messages(request):  # a cursor from another list
        page = enrollment_models_for_course(
            course_id=course_id,
            status=EnrollmentStatus.ENROLLED.value,
            limit=STUDENTS_SHOWN,
            cursor=cursor_param(request),
        )
    profiles = cached_profiles(user_ids=[enrollment.user_id for enrollment in page.items])
    students = [
        (
            enrollment.user_id,
            f"{profiles[enrollment.user_id]['name']} <{profiles[enrollment.user_id]['email']}>"
            if enrollment.user_id in profiles
            else enrollment.user_id,
        )
        for enrollment in page.items
    ]
    return render_page(
        request,
        "enrollments/admin/completions.html",
        title=f"Record completions: {course.course_code} {course.title}",
        breadcrumbs=[
            *_breadcrumbs(),
            ("Roster", admin_url("enrollments_enrollment_changelist", query={"course": course_id})),
        ],
        course=course,
        semester=semester,
        drop_deadline=university_time(semester.drop_deadline) if semester is not None else None,
        deadline_passed=semester is not None and semester.drop_deadline_passed(timezone.now()),
        students=students,
        next_url=query_with(request, cursor=page.next_cursor) if page.next_cursor else None,
        roster_url=admin_url("enrollments_enrollment_changelist", query={"course": course_id}),
    )


# --- The CSV import --------------------------------------------------------------------------------


class CompletionImportForm(forms.Form):
    file = forms.FileField(
        help_text=f"CSV in UTF-8, columns: {', '.join(COLUMNS)} (a header row is optional); "
        f"at most {MAX_ROWS:,} rows and {MAX_FILE_BYTES // 1_000_000} MB."
    )

    def clean_file(self) -> list[ImportRow]:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(f"The file is larger than {MAX_FILE_BYTES:,} bytes; split it.")
        try:
            return parse_completions_csv(upload.read())
        except ImportFileError as error:
            raise forms.ValidationError(str(error)) from None


def import_completions(request: HttpRequest) -> HttpResponse:
    """Dry run by default: what each row would do. "Import" applies the same file."""
    form = CompletionImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        rows = form.cleaned_data["file"]
        if "_apply" in request.POST:
            try:
                report = apply_import(actor=actor_of(request), rows=rows)
            except DomainError as error:
                messages.error(request, str(error.detail))
            else:
                messages.success(
                    request, "Imported. " + "; ".join(f"{label}: {count}" for label, count in report.summary) + "."
                )
        else:
            report = plan_import(rows)
    return render_page(
        request,
        "enrollments/admin/import_completions.html",
        title="Import completions",
        breadcrumbs=_breadcrumbs(),
        form=form,
        report=report,
        zone=university_zone().key,
    )
