"""List pages over DynamoDB cursors: what a list shows (ListPage), its sidebar filters, the errors of
a filter shown as messages, the actions on selected rows, and rendering it all in the admin's look."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse

from courseproject.adminsite.pages import render_page
from courseproject.adminsite.params import InvalidFilter, page_number
from courseproject.adminsite.site import admin_site
from courseproject.api.errors import DomainError


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


@contextmanager
def filter_errors_as_messages(request: HttpRequest) -> Iterator[None]:
    """A filter that cannot be queried, or a cursor from another list, is said in a message over an
    empty list (what the block had not yet filled stays as it was set before it)."""
    try:
        yield
    except InvalidFilter as error:
        messages.error(request, str(error))
    except DomainError as error:  # a cursor from another list
        messages.error(request, str(error.detail))


def run_list_action(request: HttpRequest, *, changelist_url_name: str, key_pattern: re.Pattern[str]) -> HttpResponse:
    """The action chosen on a list's selected rows, whichever app registered it; keys that are not
    of the list's shape are dropped before the action sees them."""
    selected = [key for key in request.POST.getlist("_selected_action") if key_pattern.fullmatch(key)]
    actions = {action.name: action for action in admin_site.list_actions(changelist_url_name)}
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


def render_list(
    request: HttpRequest, *, title: str, breadcrumbs: Sequence[tuple[str, str]], page: ListPage
) -> TemplateResponse:
    number = page_number(request)
    return render_page(
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
