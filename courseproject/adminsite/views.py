"""What every admin page shares: rendering in the admin's look, list pages over DynamoDB cursors,
and turning the services' errors into the form errors and messages admins know."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.template.response import TemplateResponse
from django.urls import path, reverse

from courseproject.adminsite.site import admin_site
from courseproject.api import converters  # noqa: F401  (registers <id:...>, which admin URLs use)
from courseproject.api.errors import DomainError
from courseproject.ids import ID_PATTERN

PLAIN_NUMBER = re.compile(r"[0-9]{1,9}")


def admin_url(name: str, *args: Any, query: dict[str, Any] | None = None) -> str:
    url = reverse(f"admin:{name}", args=args, current_app=admin_site.name)
    if query:
        params = QueryDict(mutable=True)
        params.update({key: value for key, value in query.items() if value not in (None, "")})
        url = f"{url}?{params.urlencode()}" if params else url
    return url


def admin_path(route: str, view: Callable[..., HttpResponse], name: str) -> Any:
    """A URL of the admin site: signed-in admins only, CSRF-protected, never cached."""
    return path(route, admin_site.admin_view(view), name=name)


def render(
    request: HttpRequest, template: str, *, title: str, breadcrumbs: Sequence[tuple[str, str]], **context: Any
) -> TemplateResponse:
    request.current_app = admin_site.name
    return TemplateResponse(
        request,
        template,
        {**admin_site.each_context(request), "title": title, "breadcrumbs": breadcrumbs, **context},
    )


# --- Lists -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FilterChoice:
    label: str
    url: str
    selected: bool


@dataclass(frozen=True)
class FilterGroup:
    title: str
    choices: list[FilterChoice]


@dataclass(frozen=True)
class FilterInput:
    """A free-text filter in the sidebar (an id, an email, a department number)."""

    name: str
    label: str
    value: str
    placeholder: str = ""


@dataclass(frozen=True)
class Row:
    cells: list[Any]
    url: str | None = None
    key: str | None = None
    links: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class ListPage:
    """Everything registration_admin/change_list.html renders."""

    columns: list[str]
    rows: list[Row]
    next_cursor: str | None = None
    filter_groups: list[FilterGroup] = field(default_factory=list)
    filter_inputs: list[FilterInput] = field(default_factory=list)
    search_value: str = ""
    search_help: str = ""
    actions: list[tuple[str, str]] = field(default_factory=list)
    object_tools: list[tuple[str, str]] = field(default_factory=list)
    post_tools: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    empty_message: str = "Nothing matches these filters."
    notice: str = ""


def query_with(request: HttpRequest, **changes: Any) -> str:
    """The current list's query string with some parameters changed (None removes one)."""
    params = request.GET.copy()
    for name, value in changes.items():
        if value is None or value == "":
            params.pop(name, None)
        else:
            params[name] = str(value)
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


def choice(request: HttpRequest, label: str, selected: bool, **changes: Any) -> FilterChoice:
    # A new filter starts from the first page.
    return FilterChoice(label=label, url=query_with(request, cursor=None, page=None, **changes), selected=selected)


def render_list(
    request: HttpRequest, *, title: str, breadcrumbs: Sequence[tuple[str, str]], page: ListPage
) -> TemplateResponse:
    number = _page_number(request)
    return render(
        request,
        "registration_admin/change_list.html",
        title=title,
        breadcrumbs=breadcrumbs,
        page=page,
        page_number=number,
        next_url=query_with(request, cursor=page.next_cursor, page=number + 1) if page.next_cursor else None,
        first_url=query_with(request, cursor=None, page=None) if number > 1 else None,
        hidden_filters=[(name, value) for name, value in request.GET.items() if name not in {"q", "cursor", "page"}],
        kept_by_inputs=[
            (name, value)
            for name, value in request.GET.items()
            if name not in {"cursor", "page", *(filter_input.name for filter_input in page.filter_inputs)}
        ],
        has_filters=bool(page.filter_groups or page.filter_inputs),
    )


def plain_int(raw: str) -> int | None:
    """A number typed in ASCII digits, else None (str.isdigit() also accepts "²", which int() refuses)."""
    return int(raw) if PLAIN_NUMBER.fullmatch(raw) else None


def _page_number(request: HttpRequest) -> int:
    number = plain_int(request.GET.get("page", "1"))
    return number if number is not None and 0 < number < 100_000 else 1


def text_param(request: HttpRequest, name: str, *, max_length: int = 254) -> str:
    return request.GET.get(name, "").strip()[:max_length]


def int_param(request: HttpRequest, name: str, *, minimum: int, maximum: int) -> int | None:
    raw = text_param(request, name, max_length=12)
    if not raw:
        return None
    number = plain_int(raw)
    if number is None or not minimum <= number <= maximum:
        raise InvalidFilter(f"{name.replace('_', ' ').capitalize()} must be a number from {minimum} to {maximum}.")
    return number


def id_param(params: QueryDict, name: str) -> str | None:
    """An id from the query string, if it has the shape of one (as the <id:...> path converter)."""
    value = params.get(name, "")
    return value if ID_PATTERN.fullmatch(value) else None


class InvalidFilter(ValueError):
    """A filter value that cannot be queried: shown as an error message over an empty list."""


# --- Forms -----------------------------------------------------------------------------------------


def apply_domain_error(form: forms.Form, error: DomainError, *, field_map: dict[str, str] | None = None) -> None:
    """Show a service's refusal on the form: on its field when the form has one, else on top.
    `field_map` names the form field for an error code or for an API field name."""
    field_map = field_map or {}
    name = field_map.get(error.code) or field_map.get(error.field or "") or error.field
    form.add_error(name if name in form.fields else None, str(error.detail))


def apply_serializer_errors(
    form: forms.Form, errors: dict[str, Any], *, field_map: dict[str, str] | None = None
) -> None:
    """The API's validation messages, on the admin form's fields."""
    for name, messages_for_field in errors.items():
        target = (field_map or {}).get(name, name)
        for message in messages_for_field if isinstance(messages_for_field, list) else [messages_for_field]:
            form.add_error(target if target in form.fields else None, str(message))


def render_form(
    request: HttpRequest,
    *,
    title: str,
    breadcrumbs: Sequence[tuple[str, str]],
    form: forms.Form,
    readonly: Iterable[tuple[str, Any]] = (),
    object_tools: Sequence[tuple[str, str]] = (),
    delete_url: str | None = None,
    can_add_another: bool = False,
    can_continue: bool = True,
    submit_label: str = "Save",
) -> TemplateResponse:
    return render(
        request,
        "registration_admin/change_form.html",
        title=title,
        breadcrumbs=breadcrumbs,
        form=form,
        readonly=list(readonly),
        object_tools=object_tools,
        delete_url=delete_url,
        can_add_another=can_add_another,
        can_continue=can_continue,
        submit_label=submit_label,
    )


def render_confirmation(
    request: HttpRequest,
    *,
    title: str,
    breadcrumbs: Sequence[tuple[str, str]],
    question: str,
    details: Iterable[tuple[str, Any]],
    confirm_label: str,
    cancel_url: str,
) -> TemplateResponse:
    return render(
        request,
        "registration_admin/confirm.html",
        title=title,
        breadcrumbs=breadcrumbs,
        question=question,
        details=list(details),
        confirm_label=confirm_label,
        cancel_url=cancel_url,
    )


def after_save(
    request: HttpRequest, *, message: str, list_url: str, change_url: str, add_url: str | None = None
) -> HttpResponseRedirect:
    """Where Django's admin goes after a save: on, back to the form, or to a new blank form."""
    messages.success(request, message)
    if "_continue" in request.POST:
        return HttpResponseRedirect(change_url)
    if "_addanother" in request.POST and add_url:
        return HttpResponseRedirect(add_url)
    return HttpResponseRedirect(list_url)
