"""A semester's add and change pages in the admin, through the semester services, with the API's
serializers validating what the form sends. The window is typed on the university's clock
(courseproject/adminsite/times.py) and sent to the serializer in UTC, so the admin saves exactly
what an API call with the same instants would."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone

from accounts.admin_sign_in import actor_of
from courseproject.adminsite.forms import FormPage, after_save, form_page
from courseproject.adminsite.pages import missing_object_redirect
from courseproject.adminsite.params import plain_int
from courseproject.adminsite.times import UniversityDateTimeField, university_time
from courseproject.adminsite.urls import admin_url
from courseproject.api.rendering import isoformat
from courseproject.ids import MAX_SEMESTER_ID, MIN_SEMESTER_ID, consecutive_semesters, is_semester_id
from semesters import services
from semesters.defaults import default_rules
from semesters.models import Semester
from semesters.selectors import semester_by_id
from semesters.serializers import MAX_CREDIT_LIMIT, SemesterCreateSerializer, SemesterUpdateSerializer

CHANGELIST = "semesters_semester_changelist"
EDITABLE_FIELDS = ("name", "registration_opens_at", "add_deadline", "drop_deadline", "credit_limit")
# Service errors (by code) that belong to one field of the form.
ERROR_FIELDS = {"semester_exists": "semester_id"}


class SemesterForm(forms.Form):
    semester_id = forms.IntegerField(
        label="Semester id",
        min_value=MIN_SEMESTER_ID,
        max_value=MAX_SEMESTER_ID,
        help_text="A year and a term (1 spring, 2 summer, 3 fall), like 20271 for spring 2027. "
        "Cannot be changed later.",
    )
    name = forms.CharField(max_length=100, widget=forms.TextInput(attrs={"class": "vTextField"}))
    registration_opens_at = UniversityDateTimeField(label="Registration opens")
    add_deadline = UniversityDateTimeField(label="Add deadline (last instant to enroll)")
    drop_deadline = UniversityDateTimeField(label="Drop deadline (last instant to drop)")
    credit_limit = forms.IntegerField(
        min_value=1,
        max_value=MAX_CREDIT_LIMIT,
        help_text="The most credits a student may be enrolled in this semester. Lowering it keeps the "
        "enrollments made under the old limit.",
    )


class SemesterChangeForm(SemesterForm):
    # The revision the page showed: saving over a change made meanwhile is refused, not merged.
    revision = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["semester_id"]  # the table's key: shown read-only


def registration_state(semester: Semester, now: datetime) -> str:
    """Where registration stands at `now`, as a registrar would say it."""
    if now < semester.registration_opens_at:
        return "opens later"
    if semester.registration_is_open(now):
        return "open"
    return "drop deadline passed" if semester.drop_deadline_passed(now) else "add deadline passed"


def semester_links(semester_id: int) -> list[tuple[str, str]]:
    return [
        ("Courses", admin_url("courses_course_changelist", query={"semester": semester_id})),
        ("History", admin_url("audit_auditrecord_changelist", query={"entity": f"semester:{semester_id}"})),
    ]


def _api_data(cleaned: dict[str, Any]) -> dict[str, Any]:
    """The form's values as an API client would send them: instants in ISO 8601 with their offset (UTC)."""
    return {name: value.isoformat() if isinstance(value, datetime) else value for name, value in cleaned.items()}


def _changed_fields(semester: Semester, cleaned: dict[str, Any]) -> dict[str, Any]:
    stored = {name: getattr(semester, name) for name in EDITABLE_FIELDS} | {"credit_limit": int(semester.credit_limit)}
    return {name: cleaned[name] for name in EDITABLE_FIELDS if cleaned[name] != stored[name]}


def _breadcrumbs() -> list[tuple[str, str]]:
    return [("Semesters", admin_url("app_list", "semesters")), ("Semesters", admin_url(CHANGELIST))]


def _proposed_semester(request: HttpRequest) -> int:
    """The semester an add page proposes: ?semester=, else the one after the current semester."""
    asked = plain_int(request.GET.get("semester", ""))
    if asked is not None and is_semester_id(asked):
        return asked
    return consecutive_semesters(settings.CURRENT_SEMESTER, 2)[1]


def semester_add(request: HttpRequest) -> HttpResponse:
    semester_id = _proposed_semester(request)
    # The default rules (semesters/defaults.py) as a starting point, in the university's time.
    initial = {"semester_id": semester_id, **default_rules(semester_id)}
    return form_page(
        request,
        form=SemesterForm(request.POST or None, initial=initial),
        api_serializer=lambda cleaned: SemesterCreateSerializer(data=_api_data(cleaned)),
        service=lambda validated: services.create_semester(actor=actor_of(request), **validated),
        field_map=ERROR_FIELDS,
        on_saved=lambda semester: after_save(
            request,
            message=f"The semester “{semester.name}” was added successfully.",
            list_url=admin_url(CHANGELIST),
            change_url=admin_url("semesters_semester_change", int(semester.semester_id)),
            add_url=admin_url("semesters_semester_add"),
        ),
        page=FormPage(title="Add semester", breadcrumbs=_breadcrumbs(), can_add_another=True),
    )


def semester_change(request: HttpRequest, semester_id: int) -> HttpResponse:
    semester = semester_by_id(semester_id=semester_id)
    if semester is None:
        return missing_object_redirect(
            request, name="Semester", object_id=str(semester_id), list_url=admin_url(CHANGELIST)
        )
    initial = {name: getattr(semester, name) for name in EDITABLE_FIELDS}
    initial |= {"credit_limit": int(semester.credit_limit), "revision": int(semester.revision)}
    form = SemesterChangeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid() and not _changed_fields(semester, form.cleaned_data):
        messages.info(request, "No fields changed.")
        return HttpResponseRedirect(admin_url(CHANGELIST))
    return form_page(
        request,
        form=form,
        # Only the changed fields: the service checks the window against the stored ones.
        api_serializer=lambda cleaned: SemesterUpdateSerializer(data=_api_data(_changed_fields(semester, cleaned))),
        service=lambda validated: services.update_semester(
            actor=actor_of(request),
            semester_id=semester_id,
            changes=validated,
            expected_revision=form.cleaned_data.get("revision"),
        ),
        on_saved=lambda changed: after_save(
            request,
            message=f"The semester “{changed.name}” was changed successfully.",
            list_url=admin_url(CHANGELIST),
            change_url=admin_url("semesters_semester_change", semester_id),
        ),
        page=FormPage(
            title=f"{semester.name} ({semester_id})",
            breadcrumbs=_breadcrumbs(),
            readonly=[
                ("Semester id", semester_id),
                ("Registration", registration_state(semester, timezone.now())),
                (
                    "In UTC (as the API shows it)",
                    f"opens {isoformat(semester.registration_opens_at)}, add deadline "
                    f"{isoformat(semester.add_deadline)}, drop deadline {isoformat(semester.drop_deadline)}",
                ),
                ("Created", university_time(semester.created_at)),
                ("Updated", university_time(semester.updated_at)),
            ],
            object_tools=semester_links(semester_id),
        ),
    )
