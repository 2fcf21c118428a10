"""The course list in the admin: one semester's courses (by department) or an instructor's (GSI
queries), lookup by id or code, the actions on selected courses, and warming a semester's cache."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_POST

from accounts.selectors import cached_profiles, user_by_email_or_id
from courseproject.adminsite.lists import (
    FilterGroup,
    FilterInput,
    ListPage,
    Row,
    choice,
    filter_errors_as_messages,
    render_list,
    run_list_action,
)
from courseproject.adminsite.params import InvalidFilter, cursor_param, int_param, plain_int, text_param
from courseproject.adminsite.site import admin_site
from courseproject.adminsite.urls import admin_url
from courseproject.api.pagination import Page
from courseproject.ids import GENERATED_ID_PATTERN, neighbouring_semesters
from courses.admin_fields import meetings_as_text, prerequisites_as_text, waitlist_as_text
from courses.models import Course
from courses.selectors import (
    course_by_id,
    course_models_for_instructor,
    course_models_for_semester,
    courses_with_code,
)
from courses.serializers import MAX_DEPARTMENT_ID, MAX_SEMESTER_ID
from courses.tasks import warm_semester

PAGE_SIZE = 50
CHANGELIST = "courses_course_changelist"


def _instructor_label(profile: dict[str, Any] | None, instructor_id: str) -> str:
    return profile["name"] if profile else instructor_id


def _find_courses(search: str) -> list[Course]:
    if GENERATED_ID_PATTERN.fullmatch(search):
        course = course_by_id(course_id=search)
        if course is not None:
            return [course]
    return sorted(courses_with_code(course_code=search), key=lambda course: -int(course.semester_id))


def _course_page(request: HttpRequest) -> tuple[Page[Course], str]:
    """The courses the filters ask for, and a description of them."""
    search = text_param(request, "q", max_length=64)
    cursor = cursor_param(request)
    if search:
        return Page(items=_find_courses(search), next_cursor=None), f"matching “{search}”"
    instructor = text_param(request, "instructor")
    if instructor:
        user = user_by_email_or_id(email_or_id=instructor)
        if user is None:
            raise InvalidFilter(f"No user has the email or id “{instructor}”.")
        page = course_models_for_instructor(instructor_id=user.user_id, limit=PAGE_SIZE, cursor=cursor)
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
        return run_list_action(request, changelist_url_name=CHANGELIST, key_pattern=GENERATED_ID_PATTERN)
    page, description = Page(items=[], next_cursor=None), "none"
    with filter_errors_as_messages(request):
        page, description = _course_page(request)
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
                meetings_as_text(course.meetings or [], separator="; "),
                prerequisites_as_text(course.prerequisites or []),
                int(course.capacity),
                int(course.enrolled_count),
                course.seats_available,
                waitlist_as_text(course),
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
        columns=[
            "Code",
            "Title",
            "Semester",
            "Department",
            "Instructor",
            "Credits",
            "Meetings",
            "Prerequisites",
            "Capacity",
            "Enrolled",
            "Seats",
            "Waitlist",
        ],
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
    return HttpResponseRedirect(admin_url(CHANGELIST, query={"semester": raw}))
