"""A course's pages in the admin: add, change and delete, through the course services, with the
API's serializers validating what the form sends. The change page also shows the panels other apps
register for it (the enrollments app's waitlist), so this module never imports them."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from accounts.admin_sign_in import actor_of
from accounts.selectors import cached_profiles, user_by_email_or_id
from courseproject.adminsite.forms import FormPage, after_save, form_page
from courseproject.adminsite.pages import missing_object_redirect, render_confirmation
from courseproject.adminsite.panels import page_panels
from courseproject.adminsite.urls import admin_url
from courseproject.api.errors import DomainError
from courses import services
from courses.admin_fields import (
    MeetingsTextField,
    PrerequisitesTextField,
    meetings_as_text,
    prerequisites_as_text,
    waitlist_as_text,
)
from courses.models import DEFAULT_WAITLIST_CAPACITY, Course
from courses.selectors import course_by_id
from courses.serializers import (
    MAX_CAPACITY,
    MAX_CREDITS,
    MAX_DEPARTMENT_ID,
    MAX_SEMESTER_ID,
    MAX_WAITLIST_CAPACITY,
    CourseCreateSerializer,
    CourseUpdateSerializer,
)

# Service errors (by code or by API field) that belong to one field of the course form.
ERROR_FIELDS = {"capacity_below_enrolled": "capacity", "instructor_id": "instructor"}
# The page of a course that other apps add panels to (courseproject/adminsite/panels.py).
CHANGE_PAGE = "courses_course_change"


class CourseForm(forms.Form):
    course_code = forms.CharField(max_length=20, help_text="2 to 20 letters, digits, spaces or dashes, like CS 101.")
    title = forms.CharField(max_length=200, widget=forms.TextInput(attrs={"class": "vTextField"}))
    description = forms.CharField(
        required=False, max_length=5000, widget=forms.Textarea(attrs={"class": "vLargeTextField"})
    )
    semester_id = forms.IntegerField(
        label="Semester",
        min_value=1,
        max_value=MAX_SEMESTER_ID,
        help_text="Year and term, like 20263 (fall 2026). Cannot be changed later.",
    )
    department_id = forms.IntegerField(label="Department", min_value=1, max_value=MAX_DEPARTMENT_ID)
    credits = forms.IntegerField(min_value=0, max_value=MAX_CREDITS)
    capacity = forms.IntegerField(
        min_value=1, max_value=MAX_CAPACITY, help_text="Cannot be set below the number of students enrolled."
    )
    waitlist_capacity = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=MAX_WAITLIST_CAPACITY,
        initial=DEFAULT_WAITLIST_CAPACITY,
        help_text="How many students may wait for a seat once the course is full (0: no waitlist). "
        "Lowering it keeps the students already waiting.",
    )
    meetings = MeetingsTextField()
    prerequisites = PrerequisitesTextField()
    instructor = forms.CharField(max_length=254, help_text="The instructor's email or user id.")

    def clean_instructor(self) -> str:
        # Any user: the service checks the role, and says so on this field.
        instructor = user_by_email_or_id(email_or_id=self.cleaned_data["instructor"].strip())
        if instructor is None:
            raise forms.ValidationError("No user has this email or id.")
        return instructor.user_id


class CourseChangeForm(CourseForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["semester_id"]  # fixed for life: shown read-only
        # Shown filled in with the course's: only the add form leaves it to the API's default.
        self.fields["waitlist_capacity"].required = True


def _initial(course: Course) -> dict[str, Any]:
    profile = cached_profiles(user_ids=[course.instructor_id]).get(course.instructor_id)
    return {
        "course_code": course.course_code,
        "title": course.title,
        "description": course.description,
        "department_id": int(course.department_id),
        "credits": int(course.credits),
        "capacity": int(course.capacity),
        "waitlist_capacity": int(course.waitlist_capacity),
        "meetings": meetings_as_text(course.meetings or []),
        "prerequisites": prerequisites_as_text(course.prerequisites or []),
        "instructor": profile["email"] if profile else course.instructor_id,
    }


def _service_fields(cleaned: dict[str, Any]) -> dict[str, Any]:
    fields = {name: value for name, value in cleaned.items() if name != "instructor"}
    if fields.get("waitlist_capacity") is None:
        fields.pop("waitlist_capacity", None)  # left empty on the add form: the API's default
    fields["instructor_id"] = cleaned["instructor"]
    return fields


def _changed_fields(course: Course, *, initial: dict[str, Any], cleaned: dict[str, Any]) -> dict[str, Any]:
    """The service fields whose values differ from the course's (the form shows the instructor's email,
    and meetings and prerequisites as text)."""
    current = {
        **initial,
        "instructor_id": course.instructor_id,
        "meetings": course.meetings or [],
        "prerequisites": course.prerequisites or [],
    }
    return {name: value for name, value in _service_fields(cleaned).items() if value != current.get(name)}


def _schedules_note(course: Course) -> str | None:
    """What an admin should know before changing credits or meetings that enrolled students' schedules
    hold (the API refuses the change to the course's instructor once registration has opened)."""
    enrolled = int(course.enrolled_count)
    if not enrolled:
        return None
    if not services.registration_has_opened(course):
        return None
    students = "1 student is" if enrolled == 1 else f"{enrolled} students are"
    return (
        f"Registration has opened and {students} enrolled. Changing credits or meetings updates their "
        "schedules and credit totals, even past the credit limit or into a time conflict; their instructor "
        "can no longer make this change."
    )


def _breadcrumbs() -> list[tuple[str, str]]:
    return [("Courses", admin_url("app_list", "courses")), ("Courses", admin_url("courses_course_changelist"))]


def _list_url(course: Course) -> str:
    return admin_url("courses_course_changelist", query={"semester": int(course.semester_id)})


def _missing(request: HttpRequest, course_id: str) -> HttpResponse:
    return missing_object_redirect(
        request, name="Course", object_id=course_id, list_url=admin_url("courses_course_changelist")
    )


def course_add(request: HttpRequest) -> HttpResponse:
    semester = request.GET.get("semester") or settings.CURRENT_SEMESTER
    return form_page(
        request,
        form=CourseForm(request.POST or None, initial={"semester_id": semester}),
        api_serializer=lambda cleaned: CourseCreateSerializer(data=_service_fields(cleaned)),
        service=lambda validated: services.create_course(actor=actor_of(request), **validated),
        field_map=ERROR_FIELDS,
        on_saved=lambda course: after_save(
            request,
            message=f"The course “{course.course_code} {course.title}” was added successfully.",
            list_url=_list_url(course),
            change_url=admin_url("courses_course_change", course.course_id),
            add_url=admin_url("courses_course_add", query={"semester": int(course.semester_id)}),
        ),
        page=FormPage(title="Add course", breadcrumbs=_breadcrumbs(), can_add_another=True),
    )


def course_change(request: HttpRequest, course_id: str) -> HttpResponse:
    course = course_by_id(course_id=course_id)
    if course is None:
        return _missing(request, course_id)
    initial = _initial(course)
    form = CourseChangeForm(request.POST or None, initial=initial)
    submitted = request.method == "POST" and form.is_valid()
    if submitted and not _changed_fields(course, initial=initial, cleaned=form.cleaned_data):
        messages.info(request, "No fields changed.")
        return HttpResponseRedirect(_list_url(course))
    return form_page(
        request,
        form=form,
        # Only the changed fields: the service checks and writes just what it is given.
        api_serializer=lambda cleaned: CourseUpdateSerializer(
            data=_changed_fields(course, initial=initial, cleaned=cleaned)
        ),
        service=lambda validated: services.update_course(
            actor=actor_of(request), course_id=course_id, changes=validated
        ),
        field_map=ERROR_FIELDS,
        on_saved=lambda changed: after_save(
            request,
            message=f"The course “{changed.course_code} {changed.title}” was changed successfully.",
            list_url=_list_url(changed),
            change_url=admin_url("courses_course_change", course_id),
        ),
        page=FormPage(
            title=f"{course.course_code} {course.title}",
            breadcrumbs=_breadcrumbs(),
            readonly=[
                ("Course id", course.course_id),
                ("Semester", int(course.semester_id)),
                (
                    "Enrolled",
                    f"{int(course.enrolled_count)} of {int(course.capacity)} ({course.seats_available} seats left)",
                ),
                ("Waitlist", waitlist_as_text(course)),
                *([("Credits and meetings", note)] if (note := _schedules_note(course)) else []),
                ("Created", course.created_at),
                ("Updated", course.updated_at),
            ],
            object_tools=[
                ("Roster", admin_url("enrollments_enrollment_changelist", query={"course": course_id})),
                ("Export roster (CSV)", admin_url("courses_course_roster_csv", course_id)),
                ("Record completions", admin_url("courses_course_completions", course_id)),
                ("History", admin_url("audit_auditrecord_changelist", query={"entity": f"course:{course_id}"})),
            ],
            delete_url=admin_url("courses_course_delete", course_id),
            panels=lambda: page_panels(CHANGE_PAGE, request, course),
        ),
    )


def course_delete(request: HttpRequest, course_id: str) -> HttpResponse:
    course = course_by_id(course_id=course_id)
    if course is None:
        return _missing(request, course_id)
    if request.method == "POST":
        try:
            services.delete_course(actor=actor_of(request), course_id=course_id)
        except DomainError as error:
            messages.error(request, str(error.detail))
            return HttpResponseRedirect(admin_url("courses_course_change", course_id))
        messages.success(request, f"The course “{course.course_code} {course.title}” was deleted successfully.")
        return HttpResponseRedirect(_list_url(course))
    return render_confirmation(
        request,
        title="Are you sure?",
        breadcrumbs=[
            *_breadcrumbs(),
            (f"{course.course_code} {course.title}", admin_url("courses_course_change", course_id)),
        ],
        question=f"Are you sure you want to delete the course “{course.course_code} {course.title}”? "
        "A course with enrolled students cannot be deleted; drop them first.",
        details=[("Semester", int(course.semester_id)), ("Enrolled", int(course.enrolled_count))],
        confirm_label="Yes, I’m sure",
        cancel_url=admin_url("courses_course_change", course_id),
    )
