"""Enrolling a student from the admin, through the enroll service with the admin as the actor: by
default the registration rules apply as for the student, and a refusal is shown on the form with
what failed; with "Override the registration rules" and a reason, the admin passes the window,
prerequisite, conflict and credit rules (never capacity), and the audit log keeps the reason."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme

from accounts.admin_sign_in import actor_of
from accounts.models import Role
from accounts.selectors import user_by_email_or_id
from courseproject.adminsite.forms import FormPage, form_page
from courseproject.adminsite.urls import admin_url
from courseproject.api.errors import DomainError
from courseproject.ids import ID_PATTERN
from courses.models import Course
from courses.selectors import course_by_id
from enrollments import services
from enrollments.admin_display import OVERRIDABLE_RULES, refusal_message
from enrollments.serializers import EnrollSerializer
from enrollments.transactions import EnrollResult

MAX_REASON_LENGTH = 500


class EnrollStudentForm(forms.Form):
    student = forms.CharField(max_length=254, help_text="The student's email or user id.")
    course = forms.CharField(
        max_length=64, help_text="The course's id (“Enroll a student…” on a course's roster fills it in)."
    )
    override_rules = forms.BooleanField(
        required=False,
        label="Override the registration rules",
        help_text=f"Enroll past these rules: {', '.join(OVERRIDABLE_RULES.values()).lower()}. "
        "Never past the course's capacity.",
    )
    override_reason = forms.CharField(
        required=False,
        max_length=MAX_REASON_LENGTH,
        label="Reason for the override",
        widget=forms.Textarea(attrs={"rows": 3, "class": "vLargeTextField"}),
        help_text="Required with an override; the audit log keeps it.",
    )

    def clean_student(self) -> str:
        user = user_by_email_or_id(email_or_id=self.cleaned_data["student"])
        if user is None:
            raise forms.ValidationError("No user has this email or id.")
        if user.role != Role.STUDENT:
            raise forms.ValidationError(f"{user.email} is not a student (their role is {user.role}).")
        if not user.is_active:
            raise forms.ValidationError(f"{user.email}'s account is deactivated.")
        self.student_name = user.name
        return user.user_id

    def clean_course(self) -> Course:
        course_id = self.cleaned_data["course"].strip()
        course = course_by_id(course_id=course_id) if ID_PATTERN.fullmatch(course_id) else None
        if course is None:
            raise forms.ValidationError("No course has this id.")
        return course

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        reason = (cleaned.get("override_reason") or "").strip()
        if cleaned.get("override_rules") and not reason:
            self.add_error("override_reason", "Give the reason for overriding the rules; the audit log keeps it.")
        cleaned["override_reason"] = reason if cleaned.get("override_rules") else None
        return cleaned


def _enroll(request: HttpRequest, form: EnrollStudentForm, course_id: str) -> EnrollResult:
    override_reason = form.cleaned_data["override_reason"]
    try:
        return services.enroll(
            actor=actor_of(request),
            course_id=course_id,
            student_id=form.cleaned_data["student"],
            override_reason=override_reason,
        )
    except DomainError as error:
        # The same refusal, worded for the admin (the rule, what failed, how to override it).
        raise type(error)(
            refusal_message(error, overriding=override_reason is not None), code=error.code, context=error.context
        ) from error


def _enrolled(request: HttpRequest, form: EnrollStudentForm, result: EnrollResult) -> HttpResponse:
    course: Course = form.cleaned_data["course"]
    name = f"{course.course_code} {course.title}"
    if not result.created:
        messages.info(request, f"{form.student_name} is already enrolled in {name}.")
    elif form.cleaned_data["override_reason"] is not None:
        messages.success(
            request,
            f"{form.student_name} was enrolled in {name} past the registration rules; the audit log keeps the reason.",
        )
    else:
        messages.success(request, f"{form.student_name} was enrolled in {name}.")
    back = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = admin_url("enrollments_enrollment_changelist", query={"course": course.course_id})
    return HttpResponseRedirect(back)


def _course_summary(course_id: str) -> list[tuple[str, Any]]:
    """The course the page was opened for (from its roster), shown above the form."""
    course = course_by_id(course_id=course_id) if ID_PATTERN.fullmatch(course_id) else None
    if course is None:
        return []
    return [
        ("Roster of", f"{course.course_code} {course.title} (semester {int(course.semester_id)})"),
        ("Seats", f"{int(course.enrolled_count)} of {int(course.capacity)} taken"),
        ("Credits", int(course.credits)),
    ]


def enroll_student(request: HttpRequest) -> HttpResponse:
    initial = {name: request.GET.get(name, "")[:254] for name in ("student", "course")}
    form = EnrollStudentForm(request.POST or None, initial=initial)
    return form_page(
        request,
        form=form,
        # What the API's enroll accepts, checked the same way.
        api_serializer=lambda cleaned: EnrollSerializer(data={"course_id": cleaned["course"].course_id}),
        service=lambda validated: _enroll(request, form, validated["course_id"]),
        on_saved=lambda result: _enrolled(request, form, result),
        page=FormPage(
            title="Enroll a student",
            breadcrumbs=[
                ("Enrollments", admin_url("app_list", "enrollments")),
                ("Enrollments", admin_url("enrollments_enrollment_changelist")),
            ],
            readonly=_course_summary(initial["course"]),
            can_continue=False,
            submit_label="Enroll",
        ),
    )
