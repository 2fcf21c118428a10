"""Semesters in the admin: the list, newest first (the SemestersNewestFirst index, 50 a page, from
one semester back when asked), and the add and change pages (admin_forms.py), all through the
semester selectors and services. Times are shown and typed on the university's clock."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from courseproject.adminsite.lists import FilterInput, ListPage, Row, filter_errors_as_messages, render_list
from courseproject.adminsite.params import InvalidFilter, cursor_param, int_param, plain_int, text_param
from courseproject.adminsite.site import Section, admin_site
from courseproject.adminsite.times import university_time
from courseproject.adminsite.urls import admin_path, admin_url
from courseproject.api.pagination import Page
from courseproject.ids import MAX_SEMESTER_ID
from semesters.admin_forms import CHANGELIST, registration_state, semester_add, semester_change, semester_links
from semesters.models import Semester
from semesters.selectors import semester_by_id, semesters_newest_first

PAGE_SIZE = 50


def _row(semester: Semester, *, now: datetime) -> Row:
    return Row(
        cells=[
            int(semester.semester_id),
            semester.name,
            university_time(semester.registration_opens_at),
            university_time(semester.add_deadline),
            university_time(semester.drop_deadline),
            int(semester.credit_limit),
            registration_state(semester, now),
        ],
        url=admin_url("semesters_semester_change", int(semester.semester_id)),
        links=semester_links(int(semester.semester_id)),
    )


def _semester_page(request: HttpRequest) -> tuple[Page[Semester], str]:
    """The semesters the search or the filter asks for, and a description of them (" from 20263 back")."""
    search = text_param(request, "q", max_length=12)
    if search:
        semester_id = plain_int(search)
        if semester_id is None or semester_id > MAX_SEMESTER_ID:
            raise InvalidFilter("Search by a semester id, like 20263.")
        found = semester_by_id(semester_id=semester_id)
        return Page(items=[found] if found else [], next_cursor=None), f" with the id {semester_id}"
    up_to = int_param(request, "up_to", minimum=1, maximum=MAX_SEMESTER_ID)
    page = semesters_newest_first(limit=PAGE_SIZE, cursor=cursor_param(request), up_to=up_to)
    return page, f" from {up_to} back" if up_to else ""


@require_safe
def semester_list(request: HttpRequest) -> HttpResponse:
    page, description = Page(items=[], next_cursor=None), ""
    now = timezone.now()
    with filter_errors_as_messages(request):
        page, description = _semester_page(request)
    list_page = ListPage(
        columns=[
            "Semester",
            "Name",
            "Registration opens",
            "Add deadline",
            "Drop deadline",
            "Credit limit",
            "Registration",
        ],
        rows=[_row(semester, now=now) for semester in page.items],
        next_cursor=page.next_cursor,
        filter_inputs=[FilterInput("up_to", "From semester back", request.GET.get("up_to", ""), "e.g. 20263")],
        search_value=request.GET.get("q", ""),
        search_help="Find a semester by its id, like 20263.",
        object_tools=[("Add semester", admin_url("semesters_semester_add"))],
        empty_message=f"No semesters{description}.",
        notice=f"Semesters{description}, newest first, {PAGE_SIZE} a page. "
        f"Times are on the university's clock ({settings.UNIVERSITY_TIME_ZONE}).",
    )
    return render_list(
        request,
        title="Select semester to change",
        breadcrumbs=[("Semesters", admin_url("app_list", "semesters"))],
        page=list_page,
    )


admin_site.register_section(
    Section(
        app_label="semesters",
        object_name="Semester",
        name="Semesters",
        changelist_url_name=CHANGELIST,
        add_url_name="semesters_semester_add",
        urls=[
            admin_path("semesters/semester/", semester_list, CHANGELIST),
            admin_path("semesters/semester/add/", semester_add, "semesters_semester_add"),
            admin_path(
                "semesters/semester/<semester:semester_id>/change/", semester_change, "semesters_semester_change"
            ),
        ],
    )
)
