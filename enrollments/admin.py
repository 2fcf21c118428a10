"""Enrollments in the admin: a course's roster or a student's enrollments, any status, dropping a
student through the drop service (the seat is freed, the student emailed, the change audited), and
roster exports as CSV (a course's, or the selected courses' from the course list). The registration
rules' pages live beside it: enrolling a student, with or without an override (admin_enroll.py);
completions and their CSV import (admin_completions.py); a student's schedules, transcript and
transfer credit (admin_student.py); a course's waitlist on its page, and removing a student from it
(admin_waitlist.py)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme

from accounts.admin_sign_in import actor_of
from accounts.selectors import cached_profiles, user_by_email_or_id
from courseproject.adminsite.lists import (
    FilterGroup,
    FilterInput,
    ListPage,
    Row,
    choice,
    filter_errors_as_messages,
    render_list,
)
from courseproject.adminsite.pages import missing_object_redirect, render_confirmation
from courseproject.adminsite.panels import register_panel
from courseproject.adminsite.params import InvalidFilter, cursor_param, id_param, text_param
from courseproject.adminsite.site import ListAction, Section, admin_site
from courseproject.adminsite.urls import admin_path, admin_url
from courseproject.api.errors import DomainError
from courseproject.api.pagination import Page
from courses.admin_forms import CHANGE_PAGE as COURSE_CHANGE_PAGE
from courses.selectors import cached_courses, course_by_id
from enrollments import services
from enrollments.admin_completions import course_completions, import_completions
from enrollments.admin_enroll import enroll_student
from enrollments.admin_student import student_page, student_tools, transfer_credit
from enrollments.admin_waitlist import REMOVE_PAGE, remove_url, waitlist_panel, waitlist_remove
from enrollments.exports import roster_csv_response, roster_filename
from enrollments.models import Enrollment, EnrollmentStatus
from enrollments.selectors import enrollment_models_for_course, enrollment_models_for_student

PAGE_SIZE = 50
STATUSES = [status.value for status in EnrollmentStatus]


def _drop_link(request: HttpRequest, enrollment: Enrollment) -> list[tuple[str, str]]:
    if enrollment.status == EnrollmentStatus.WAITLISTED:
        return [("Remove from waitlist…", remove_url(user_id=enrollment.user_id, course_id=enrollment.course_id))]
    if enrollment.status != EnrollmentStatus.ENROLLED:
        return []
    query = {"user": enrollment.user_id, "course": enrollment.course_id, "next": request.get_full_path()}
    return [("Drop…", admin_url("enrollments_enrollment_drop", query=query))]


def _history_link(enrollment: Enrollment) -> tuple[str, str]:
    entity = f"enrollment:{enrollment.enrollment_id}"
    return ("History", admin_url("audit_auditrecord_changelist", query={"entity": entity}))


def _roster_rows(request: HttpRequest, page: Page[Enrollment]) -> list[Row]:
    students = cached_profiles(user_ids=[enrollment.user_id for enrollment in page.items])
    rows = []
    for enrollment in page.items:
        student = students.get(enrollment.user_id)
        rows.append(
            Row(
                cells=[
                    f"{student['name']} <{student['email']}>" if student else enrollment.user_id,
                    enrollment.status,
                    enrollment.enrolled_at,
                    enrollment.dropped_at,
                ],
                url=admin_url("enrollments_enrollment_changelist", query={"student": enrollment.user_id}),
                links=[
                    ("Schedule", admin_url("enrollments_student", enrollment.user_id)),
                    *_drop_link(request, enrollment),
                    _history_link(enrollment),
                ],
            )
        )
    return rows


def _student_rows(request: HttpRequest, page: Page[Enrollment]) -> list[Row]:
    courses = cached_courses(course_ids=[enrollment.course_id for enrollment in page.items])
    rows = []
    for enrollment in page.items:
        course = courses.get(enrollment.course_id)
        rows.append(
            Row(
                cells=[
                    f"{course['course_code']} {course['title']}" if course else f"(deleted) {enrollment.course_id}",
                    int(enrollment.semester_id),
                    enrollment.status,
                    enrollment.enrolled_at,
                    enrollment.dropped_at,
                ],
                url=admin_url("courses_course_change", enrollment.course_id) if course else None,
                links=[*_drop_link(request, enrollment), _history_link(enrollment)],
            )
        )
    return rows


def enrollment_list(request: HttpRequest) -> HttpResponse:
    course_id = text_param(request, "course", max_length=64)
    student = text_param(request, "student")
    status = text_param(request, "status", max_length=16) or None
    cursor = cursor_param(request)
    columns: list[str] = ["Student", "Status", "Enrolled at", "Dropped at"]
    rows: list[Row] = []
    next_cursor = None
    notice = "Choose a course (its id, or “Roster” on the course list) or a student (email or id)."
    object_tools = [
        ("Enroll a student…", admin_url("enrollments_enrollment_enroll")),
        ("Import completions (CSV)…", admin_url("enrollments_import_completions")),
    ]
    with filter_errors_as_messages(request):
        if status is not None and status not in STATUSES:
            raise InvalidFilter(f"Status must be one of {', '.join(STATUSES)}.")
        if course_id:
            course = course_by_id(course_id=course_id)
            if course is None:
                raise InvalidFilter(f"No course has the id “{course_id}”.")
            page = enrollment_models_for_course(course_id=course_id, status=status, limit=PAGE_SIZE, cursor=cursor)
            rows, next_cursor = _roster_rows(request, page), page.next_cursor
            enroll_query = {"course": course_id, "next": request.get_full_path()}
            object_tools = [
                ("Enroll a student…", admin_url("enrollments_enrollment_enroll", query=enroll_query)),
                ("Record completions…", admin_url("courses_course_completions", course_id)),
            ]
            notice = (
                f"Students of {course.course_code} {course.title} (semester {int(course.semester_id)}): "
                f"{int(course.enrolled_count)} enrolled of {int(course.capacity)}."
            )
        elif student:
            user = user_by_email_or_id(email_or_id=student)
            if user is None:
                raise InvalidFilter(f"No user has the email or id “{student}”.")
            page = enrollment_models_for_student(user_id=user.user_id, status=status, limit=PAGE_SIZE, cursor=cursor)
            columns = ["Course", "Semester", "Status", "Enrolled at", "Dropped at"]
            rows, next_cursor = _student_rows(request, page), page.next_cursor
            notice = f"Enrollments of {student}, newest first."
            object_tools = [
                ("Schedule and transcript", admin_url("enrollments_student", user.user_id)),
                *(tool for tool in student_tools(user.user_id) if tool[0] != "Enrollments"),
            ]
    list_page = ListPage(
        columns=columns,
        rows=rows,
        next_cursor=next_cursor,
        filter_groups=[
            FilterGroup(
                title="status",
                choices=[
                    choice(request, "All", status is None, status=None),
                    *(choice(request, value.capitalize(), status == value, status=value) for value in STATUSES),
                ],
            )
        ],
        filter_inputs=[
            FilterInput("course", "Course id", course_id),
            FilterInput("student", "Student (email or id)", student),
        ],
        empty_message="No enrollments to show." if (course_id or student) else notice,
        notice=notice,
        object_tools=object_tools,
    )
    return render_list(
        request,
        title="Enrollments",
        breadcrumbs=[("Enrollments", admin_url("app_list", "enrollments"))],
        page=list_page,
    )


def enrollment_drop(request: HttpRequest) -> HttpResponse:
    # The confirmation form posts back to this URL, query string included.
    user_id, course_id = id_param(request.GET, "user"), id_param(request.GET, "course")
    back = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = admin_url("enrollments_enrollment_changelist", query={"course": course_id})
    students = cached_profiles(user_ids=[user_id]) if user_id else {}
    course = course_by_id(course_id=course_id) if course_id else None
    if user_id is None or user_id not in students or course is None:
        messages.error(request, "That enrollment does not exist.")
        return HttpResponseRedirect(back)
    student = students[user_id]
    if request.method == "POST":
        try:
            services.drop(actor=actor_of(request), user_id=user_id, course_id=course_id)
        except DomainError as error:
            messages.error(request, str(error.detail))
        else:
            messages.success(request, f"{student['name']} was dropped from {course.course_code} {course.title}.")
        return HttpResponseRedirect(back)
    return render_confirmation(
        request,
        title="Are you sure?",
        breadcrumbs=[("Enrollments", admin_url("app_list", "enrollments")), ("Enrollments", back)],
        question=f"Drop {student['name']} <{student['email']}> from {course.course_code} {course.title}? "
        "The seat is freed at once and the student is emailed.",
        details=[
            ("Semester", int(course.semester_id)),
            ("Enrolled", f"{int(course.enrolled_count)} of {int(course.capacity)}"),
        ],
        confirm_label="Yes, drop the student",
        cancel_url=back,
    )


def course_roster_csv(request: HttpRequest, course_id: str) -> HttpResponse:
    course = course_by_id(course_id=course_id)
    if course is None:
        return missing_object_redirect(
            request, name="Course", object_id=course_id, list_url=admin_url("courses_course_changelist")
        )
    return roster_csv_response([course_id], filename=roster_filename(course), actor_id=actor_of(request).user_id)


def export_rosters(request: HttpRequest, course_ids: list[str]) -> HttpResponse:
    return roster_csv_response(course_ids, filename="rosters.csv", actor_id=actor_of(request).user_id)


admin_site.register_list_action(
    "courses_course_changelist",
    ListAction(name="export_rosters", label="Export rosters of selected courses as CSV", run=export_rosters),
)
register_panel(COURSE_CHANGE_PAGE, waitlist_panel)
admin_site.register_section(
    Section(
        app_label="enrollments",
        object_name="Enrollment",
        name="Enrollments",
        changelist_url_name="enrollments_enrollment_changelist",
        # "Add" on the index: enrolling a student.
        add_url_name="enrollments_enrollment_enroll",
        urls=[
            admin_path("enrollments/enrollment/", enrollment_list, "enrollments_enrollment_changelist"),
            admin_path("enrollments/enrollment/drop/", enrollment_drop, "enrollments_enrollment_drop"),
            admin_path("enrollments/enrollment/enroll/", enroll_student, "enrollments_enrollment_enroll"),
            admin_path(
                "enrollments/enrollment/import-completions/", import_completions, "enrollments_import_completions"
            ),
            admin_path("enrollments/student/<id:user_id>/", student_page, "enrollments_student"),
            admin_path(
                "enrollments/student/<id:user_id>/transfer-credit/",
                transfer_credit,
                "enrollments_student_transfer_credit",
            ),
            admin_path("courses/course/<id:course_id>/completions/", course_completions, "courses_course_completions"),
            admin_path("courses/course/<id:course_id>/waitlist/remove/", waitlist_remove, REMOVE_PAGE),
            # Under the course it exports, where the course pages link to it.
            admin_path("courses/course/<id:course_id>/roster.csv", course_roster_csv, "courses_course_roster_csv"),
        ],
    )
)
