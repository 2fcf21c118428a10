"""Courses in the admin: lists by semester and department or by instructor (GSI queries), lookup by
id or code, add, change and delete through the course services, roster export and cache warming."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_POST

from accounts.admin_sign_in import actor_of
from accounts.selectors import cached_profiles, user_by_email_or_id
from courseproject.adminsite.site import Section, admin_site
from courseproject.adminsite.views import (
    FilterGroup,
    FilterInput,
    InvalidFilter,
    ListPage,
    Row,
    admin_path,
    admin_url,
    after_save,
    apply_domain_error,
    apply_serializer_errors,
    choice,
    int_param,
    plain_int,
    render_confirmation,
    render_form,
    render_list,
    text_param,
)
from courseproject.api.errors import DomainError
from courseproject.api.pagination import Page
from courseproject.ids import GENERATED_ID_PATTERN, neighbouring_semesters
from courses import services
from courses.models import Course
from courses.selectors import (
    course_by_id,
    course_models_for_instructor,
    course_models_for_semester,
    courses_with_code,
)
from courses.serializers import (
    MAX_CAPACITY,
    MAX_CREDITS,
    MAX_DEPARTMENT_ID,
    MAX_SEMESTER_ID,
    CourseCreateSerializer,
    CourseUpdateSerializer,
)
from courses.tasks import warm_semester

PAGE_SIZE = 50
CHANGELIST = "courses_course_changelist"
# Service errors (by code or by API field) that belong to one field of the course form.
ERROR_FIELDS = {"capacity_below_enrolled": "capacity", "instructor_id": "instructor"}


def instructor_id_for(value: str) -> str | None:
    """An instructor named by email or by user id (the service checks the role)."""
    user = user_by_email_or_id(email_or_id=value)
    return user.user_id if user is not None else None


def _instructor_label(profile: dict[str, Any] | None, instructor_id: str) -> str:
    return profile["name"] if profile else instructor_id


# --- List ------------------------------------------------------------------------------------------


def _find_courses(search: str) -> list[Course]:
    if GENERATED_ID_PATTERN.fullmatch(search):
        course = course_by_id(course_id=search)
        if course is not None:
            return [course]
    return sorted(courses_with_code(course_code=search), key=lambda course: -int(course.semester_id))


def _course_page(request: HttpRequest) -> tuple[Page[Course], str]:
    """The courses the filters ask for, and a description of them."""
    search = text_param(request, "q", max_length=64)
    cursor = text_param(request, "cursor", max_length=2048) or None
    if search:
        return Page(items=_find_courses(search), next_cursor=None), f"matching “{search}”"
    instructor = text_param(request, "instructor")
    if instructor:
        instructor_id = instructor_id_for(instructor)
        if instructor_id is None:
            raise InvalidFilter(f"No user has the email or id “{instructor}”.")
        page = course_models_for_instructor(instructor_id=instructor_id, limit=PAGE_SIZE, cursor=cursor)
        return page, f"taught by {instructor}"
    semester_id = int_param(request, "semester", minimum=1, maximum=MAX_SEMESTER_ID) or settings.CURRENT_SEMESTER
    department_id = int_param(request, "department", minimum=1, maximum=MAX_DEPARTMENT_ID)
    page = course_models_for_semester(
        semester_id=semester_id, department_id=department_id, limit=PAGE_SIZE, cursor=cursor
    )
    department = f", department {department_id}" if department_id else ""
    return page, f"in semester {semester_id}{department}"


def course_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _run_list_action(request)
    try:
        page, description = _course_page(request)
    except InvalidFilter as error:
        messages.error(request, str(error))
        page, description = Page(items=[], next_cursor=None), "none"
    except DomainError as error:  # a cursor from another list
        messages.error(request, str(error.detail))
        page, description = Page(items=[], next_cursor=None), "none"
    profiles = cached_profiles(user_ids=[course.instructor_id for course in page.items])
    rows = [
        Row(
            cells=[
                course.course_code,
                course.title,
                int(course.semester_id),
                int(course.department_id),
                _instructor_label(profiles.get(course.instructor_id), course.instructor_id),
                int(course.credits),
                int(course.capacity),
                int(course.enrolled_count),
                course.seats_available,
            ],
            url=admin_url("courses_course_change", course.course_id),
            key=course.course_id,
            links=[
                ("Roster", admin_url("enrollments_enrollment_changelist", query={"course": course.course_id})),
                ("History", admin_url("audit_auditrecord_changelist", query={"entity": f"course:{course.course_id}"})),
            ],
        )
        for course in page.items
    ]
    semester_param = request.GET.get("semester", "")
    selected_semester = plain_int(semester_param) or settings.CURRENT_SEMESTER
    by_semester = not request.GET.get("instructor") and not request.GET.get("q")
    warm_for = selected_semester if by_semester else None
    list_page = ListPage(
        columns=["Code", "Title", "Semester", "Department", "Instructor", "Credits", "Capacity", "Enrolled", "Seats"],
        rows=rows,
        next_cursor=page.next_cursor,
        filter_groups=[
            FilterGroup(
                title="semester",
                choices=[
                    choice(
                        request,
                        str(semester),
                        by_semester and semester == selected_semester,
                        semester=semester,
                        instructor=None,
                        q=None,
                    )
                    for semester in neighbouring_semesters(settings.CURRENT_SEMESTER, before=3, after=2)
                ],
            )
        ],
        filter_inputs=[
            FilterInput("semester", "Semester", semester_param, "e.g. 20263"),
            FilterInput("department", "Department", request.GET.get("department", ""), "e.g. 7"),
            FilterInput("instructor", "Instructor (email or id)", request.GET.get("instructor", ""), "instructor@..."),
        ],
        search_value=request.GET.get("q", ""),
        search_help="Find a course by its id or its code (every semester's).",
        actions=[(action.name, action.label) for action in admin_site.list_actions(CHANGELIST)],
        object_tools=[("Add course", admin_url("courses_course_add", query={"semester": warm_for}))],
        post_tools=[
            (f"Warm cache for semester {warm_for}", admin_url("courses_warm_cache"), {"semester": str(warm_for)})
        ]
        if warm_for
        else [],
        empty_message=f"No courses {description}.",
        notice=f"Courses {description}, {PAGE_SIZE} a page. Filter by semester and department, or by instructor.",
    )
    return render_list(
        request,
        title="Select course to change",
        breadcrumbs=[("Courses", admin_url("app_list", "courses"))],
        page=list_page,
    )


def _run_list_action(request: HttpRequest) -> HttpResponse:
    selected = [
        course_id for course_id in request.POST.getlist("_selected_action") if GENERATED_ID_PATTERN.fullmatch(course_id)
    ]
    actions = {action.name: action for action in admin_site.list_actions(CHANGELIST)}
    action = actions.get(request.POST.get("action", ""))
    if action is None:
        messages.warning(request, "No action selected.")
    elif not selected:
        messages.warning(
            request, "Items must be selected in order to perform actions on them. No items have been changed."
        )
    else:
        return action.run(request, selected)
    return HttpResponseRedirect(request.get_full_path())


@require_POST
def warm_cache(request: HttpRequest) -> HttpResponse:
    raw = request.POST.get("semester", "")
    semester_id = plain_int(raw)
    if semester_id is None or not 1 <= semester_id <= MAX_SEMESTER_ID:
        messages.error(request, "Choose a semester to warm.")
    elif not settings.CACHE_ENABLED:
        messages.warning(request, "The cache is turned off (CACHE_ENABLED=false); there is nothing to warm.")
    else:
        try:
            warm_semester.delay(semester_id=semester_id)
        except Exception:  # the broker is away: say so rather than fail the page
            messages.error(request, "The task queue is unavailable; try again shortly or run manage.py warm_cache.")
        else:
            messages.success(request, f"Warming the cache for semester {raw} in the background.")
    return HttpResponseRedirect(admin_url("courses_course_changelist", query={"semester": raw}))


# --- Add, change, delete -----------------------------------------------------------------------------


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
    instructor = forms.CharField(max_length=254, help_text="The instructor's email or user id.")

    def clean_instructor(self) -> str:
        value = self.cleaned_data["instructor"].strip()
        instructor_id = instructor_id_for(value)
        if instructor_id is None:
            raise forms.ValidationError("No user has this email or id.")
        return instructor_id


class CourseChangeForm(CourseForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["semester_id"]  # fixed for life: shown read-only


def _initial(course: Course) -> dict[str, Any]:
    profile = cached_profiles(user_ids=[course.instructor_id]).get(course.instructor_id)
    return {
        "course_code": course.course_code,
        "title": course.title,
        "description": course.description,
        "department_id": int(course.department_id),
        "credits": int(course.credits),
        "capacity": int(course.capacity),
        "instructor": profile["email"] if profile else course.instructor_id,
    }


def _service_fields(cleaned: dict[str, Any]) -> dict[str, Any]:
    fields = {name: value for name, value in cleaned.items() if name != "instructor"}
    fields["instructor_id"] = cleaned["instructor"]
    return fields


def _breadcrumbs() -> list[tuple[str, str]]:
    return [("Courses", admin_url("app_list", "courses")), ("Courses", admin_url("courses_course_changelist"))]


def _missing(request: HttpRequest, course_id: str) -> HttpResponse:
    messages.warning(request, f"Course with ID “{course_id}” doesn’t exist. Perhaps it was deleted?")
    return HttpResponseRedirect(admin_url("courses_course_changelist"))


def course_add(request: HttpRequest) -> HttpResponse:
    form = CourseForm(
        request.POST or None, initial={"semester_id": request.GET.get("semester") or settings.CURRENT_SEMESTER}
    )
    if request.method == "POST" and form.is_valid():
        serializer = CourseCreateSerializer(data=_service_fields(form.cleaned_data))
        if not serializer.is_valid():
            apply_serializer_errors(form, serializer.errors, field_map=ERROR_FIELDS)
        else:
            try:
                course = services.create_course(actor=actor_of(request), **serializer.validated_data)
            except DomainError as error:
                apply_domain_error(form, error, field_map=ERROR_FIELDS)
            else:
                return after_save(
                    request,
                    message=f"The course “{course.course_code} {course.title}” was added successfully.",
                    list_url=admin_url("courses_course_changelist", query={"semester": int(course.semester_id)}),
                    change_url=admin_url("courses_course_change", course.course_id),
                    add_url=admin_url("courses_course_add", query={"semester": int(course.semester_id)}),
                )
    return render_form(request, title="Add course", breadcrumbs=_breadcrumbs(), form=form, can_add_another=True)


def course_change(request: HttpRequest, course_id: str) -> HttpResponse:
    course = course_by_id(course_id=course_id)
    if course is None:
        return _missing(request, course_id)
    initial = _initial(course)
    form = CourseChangeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        changes = {
            name: value
            for name, value in _service_fields(form.cleaned_data).items()
            if value != (course.instructor_id if name == "instructor_id" else initial.get(name))
        }
        if not changes:
            messages.info(request, "No fields changed.")
            return HttpResponseRedirect(
                admin_url("courses_course_changelist", query={"semester": int(course.semester_id)})
            )
        serializer = CourseUpdateSerializer(data=changes)
        if not serializer.is_valid():
            apply_serializer_errors(form, serializer.errors, field_map=ERROR_FIELDS)
        else:
            try:
                course = services.update_course(
                    actor=actor_of(request), course_id=course_id, changes=serializer.validated_data
                )
            except DomainError as error:
                apply_domain_error(form, error, field_map=ERROR_FIELDS)
            else:
                return after_save(
                    request,
                    message=f"The course “{course.course_code} {course.title}” was changed successfully.",
                    list_url=admin_url("courses_course_changelist", query={"semester": int(course.semester_id)}),
                    change_url=admin_url("courses_course_change", course_id),
                )
    return render_form(
        request,
        title=f"{course.course_code} {course.title}",
        breadcrumbs=_breadcrumbs(),
        form=form,
        readonly=[
            ("Course id", course.course_id),
            ("Semester", int(course.semester_id)),
            (
                "Enrolled",
                f"{int(course.enrolled_count)} of {int(course.capacity)} ({course.seats_available} seats left)",
            ),
            ("Created", course.created_at),
            ("Updated", course.updated_at),
        ],
        object_tools=[
            ("Roster", admin_url("enrollments_enrollment_changelist", query={"course": course_id})),
            ("Export roster (CSV)", admin_url("courses_course_roster_csv", course_id)),
            ("History", admin_url("audit_auditrecord_changelist", query={"entity": f"course:{course_id}"})),
        ],
        delete_url=admin_url("courses_course_delete", course_id),
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
        return HttpResponseRedirect(admin_url("courses_course_changelist", query={"semester": int(course.semester_id)}))
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


admin_site.register_section(
    Section(
        app_label="courses",
        object_name="Course",
        name="Courses",
        changelist_url_name="courses_course_changelist",
        add_url_name="courses_course_add",
        urls=[
            admin_path("courses/course/", course_list, "courses_course_changelist"),
            admin_path("courses/course/add/", course_add, "courses_course_add"),
            admin_path("courses/course/warm-cache/", warm_cache, "courses_warm_cache"),
            admin_path("courses/course/<id:course_id>/change/", course_change, "courses_course_change"),
            admin_path("courses/course/<id:course_id>/delete/", course_delete, "courses_course_delete"),
        ],
    )
)
