"""The audit log in the admin, read-only: the history of one course, enrollment, semester or user, or
everything one person did, newest first (the AuditByEntity and AuditByActor indexes)."""

from __future__ import annotations

from typing import Any

import orjson
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from accounts.selectors import cached_profiles, user_by_email_or_id
from audit.models import RULES_OVERRIDDEN, AuditRecord
from audit.selectors import audit_by_actor, audit_for_entity, overrides_for_student
from courseproject.adminsite.lists import FilterInput, ListPage, Row, filter_errors_as_messages, render_list
from courseproject.adminsite.pages import missing_object_redirect, render_page
from courseproject.adminsite.params import InvalidFilter, cursor_param, plain_int, text_param
from courseproject.adminsite.site import Section, admin_site
from courseproject.adminsite.times import university_time
from courseproject.adminsite.urls import admin_path, admin_url
from courseproject.api.pagination import Page
from courseproject.ids import MAX_SEMESTER_ID
from courses.selectors import cached_courses
from enrollments.admin_student import StudentPanel, register_student_panel

PAGE_SIZE = 50
OVERRIDES_SHOWN = 20
ENTITY_TYPES = ("course", "enrollment", "semester", "user")


def _entity_url(record: AuditRecord) -> str | None:
    if record.entity_type == "course" and record.action != "deleted":
        return admin_url("courses_course_change", record.entity_id)
    if record.entity_type == "user":
        return admin_url("accounts_user_change", record.entity_id)
    semester_id = plain_int(record.entity_id) if record.entity_type == "semester" else None
    if semester_id is not None and semester_id <= MAX_SEMESTER_ID:
        return admin_url("semesters_semester_change", semester_id)
    return None


def _summary(record: AuditRecord) -> str:
    """What changed, in a line: the fields whose values differ; or why the rules were overridden."""
    before, after = record.before or {}, record.after or {}
    if after.get("override_reason"):
        return f"past the registration rules: {after['override_reason']}"
    if not before or not after:
        return ""
    changed = [name for name in sorted({*before, *after}) if before.get(name) != after.get(name)]
    changed = [name for name in changed if name not in {"updated_at", "enrolled_count", "seats_available"}] or changed
    return ", ".join(f"{name}: {before.get(name)!r} → {after.get(name)!r}" for name in changed[:4])


def _label(record: AuditRecord) -> str:
    state = record.after or record.before or {}
    if record.action == RULES_OVERRIDDEN:
        return f"enrollment in {state.get('course_id', '?')[:12]}… past the rules"
    if record.entity_type == "course":
        return f"{state.get('course_code', '')} {state.get('title', '')}".strip() or record.entity_id
    if record.entity_type == "user":
        return state.get("email", record.entity_id)
    if record.entity_type == "semester":
        return f"{state['name']} ({record.entity_id})" if state.get("name") else f"semester {record.entity_id}"
    return f"enrollment {record.entity_id[:12]}…"


@require_safe
def audit_list(request: HttpRequest) -> HttpResponse:
    entity = text_param(request, "entity", max_length=80)
    actor = text_param(request, "actor")
    cursor = cursor_param(request)
    page: Page[AuditRecord] = Page(items=[], next_cursor=None)
    description = ""
    with filter_errors_as_messages(request):
        if entity:
            entity_type, _, entity_id = entity.partition(":")
            if entity_type not in ENTITY_TYPES or not entity_id:
                raise InvalidFilter("Entity must be course:<id>, enrollment:<id>, semester:<id> or user:<id>.")
            page = audit_for_entity(entity_type=entity_type, entity_id=entity_id, limit=PAGE_SIZE, cursor=cursor)
            description = f"History of {entity_type} {entity_id}"
        else:
            user = user_by_email_or_id(email_or_id=actor) if actor else None
            if actor and user is None:
                raise InvalidFilter(f"No user has the email or id “{actor}”.")
            actor_id = user.user_id if user is not None else request.user.user_id
            page = audit_by_actor(actor_id=actor_id, limit=PAGE_SIZE, cursor=cursor)
            description = f"Actions of {user.email if user is not None else 'yours'}"
    actors = cached_profiles(user_ids=[record.actor_id for record in page.items])
    rows = [
        Row(
            cells=[
                record.occurred_at,
                record.action,
                record.entity_type,
                _label(record),
                actors[record.actor_id]["email"] if record.actor_id in actors else record.actor_id,
                _summary(record),
            ],
            url=admin_url("audit_auditrecord_detail", record.audit_id),
        )
        for record in page.items
    ]
    list_page = ListPage(
        columns=["When", "Action", "Type", "Entity", "By", "Changes"],
        rows=rows,
        next_cursor=page.next_cursor,
        filter_inputs=[
            FilterInput("entity", "Entity (type:id)", entity, "course:<id>"),
            FilterInput("actor", "Actor (email or id)", actor, "admin@..."),
        ],
        empty_message="No audit records.",
        notice=f"{description}, newest first. Records are written by the worker within seconds of a change."
        if description
        else "",
    )
    return render_list(
        request, title="Audit log", breadcrumbs=[("Audit log", admin_url("app_list", "audit"))], page=list_page
    )


@require_safe
def audit_detail(request: HttpRequest, audit_id: str) -> HttpResponse:
    try:
        record = AuditRecord.get(audit_id)
    except AuditRecord.DoesNotExist:
        return missing_object_redirect(
            request,
            name="Audit record",
            object_id=audit_id,
            list_url=admin_url("audit_auditrecord_changelist"),
            reason="Perhaps it expired?",
        )
    entity_url = _entity_url(record)
    tools = [
        (
            "History of this " + record.entity_type,
            admin_url("audit_auditrecord_changelist", query={"entity": f"{record.entity_type}:{record.entity_id}"}),
        )
    ]
    if entity_url:
        tools.append((f"Open this {record.entity_type}", entity_url))
    fields: list[tuple[str, Any, bool]] = [
        ("When", record.occurred_at, False),
        ("Action", record.action, False),
        ("Entity", f"{record.entity_type} {record.entity_id}", False),
        ("By", record.actor_id, False),
        ("Before", orjson.dumps(record.before, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode(), True),
        ("After", orjson.dumps(record.after, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode(), True),
    ]
    return render_page(
        request,
        "registration_admin/detail.html",
        title=f"{record.action.capitalize()} {_label(record)}",
        breadcrumbs=[
            ("Audit log", admin_url("app_list", "audit")),
            ("Audit log", admin_url("audit_auditrecord_changelist")),
        ],
        fields=fields,
        object_tools=tools,
    )


def recent_actions(request: HttpRequest) -> dict[str, Any]:
    """The index's "My actions", from the audit log."""
    try:
        records = audit_by_actor(actor_id=request.user.user_id, limit=10, cursor=None).items
    except Exception:  # the index page must open even when the audit table cannot be read
        records = []
    return {
        "recent_actions": [
            {
                "url": admin_url("audit_auditrecord_detail", record.audit_id),
                "label": _label(record),
                "action": record.action,
                "entity_type": record.entity_type,
                "occurred_at": record.occurred_at,
            }
            for record in records
        ],
        "all_actions_url": admin_url("audit_auditrecord_changelist"),
    }


def overrides_panel(request: HttpRequest, user_id: str) -> StudentPanel:
    """A student's page: the admins' enrollments of them past the registration rules, with the reasons."""
    page = overrides_for_student(user_id=user_id, limit=OVERRIDES_SHOWN, cursor=None)
    admins = cached_profiles(user_ids=[record.actor_id for record in page.items])
    course_ids = [course_id for record in page.items if (course_id := (record.after or {}).get("course_id"))]
    courses = cached_courses(course_ids=course_ids)
    rows = []
    for record in page.items:
        after = record.after or {}
        course = courses.get(after.get("course_id", ""))
        rows.append(
            (
                [
                    university_time(record.occurred_at),
                    f"{course['course_code']} {course['title']}" if course else after.get("course_id"),
                    after.get("semester_id"),
                    admins[record.actor_id]["email"] if record.actor_id in admins else record.actor_id,
                    after.get("override_reason"),
                ],
                admin_url("audit_auditrecord_detail", record.audit_id),
            )
        )
    return StudentPanel(
        title="Overrides of the registration rules",
        columns=["When", "Course", "Semester", "By", "Reason"],
        rows=rows,
        empty_message="No overrides: every enrollment followed the rules.",
        more_url=admin_url("audit_auditrecord_changelist", query={"entity": f"user:{user_id}"})
        if page.next_cursor
        else None,
    )


admin_site.recent_actions = recent_actions
register_student_panel(overrides_panel)
admin_site.register_section(
    Section(
        app_label="audit",
        object_name="AuditRecord",
        name="Audit log",
        changelist_url_name="audit_auditrecord_changelist",
        view_only=True,
        urls=[
            admin_path("audit/auditrecord/", audit_list, "audit_auditrecord_changelist"),
            admin_path("audit/auditrecord/<id:audit_id>/", audit_detail, "audit_auditrecord_detail"),
        ],
    )
)
