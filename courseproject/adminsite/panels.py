"""Tables one app adds to another app's page (the enrollments app's waitlist on a course's page), so
the page's app never imports the app that adds to it: the adding app registers a builder under the
page's URL name, and the page asks for the panels of that name when it is shown."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from courseproject.adminsite.lists import Row


@dataclass(frozen=True)
class Panel:
    """A table under a page's form (registration_admin/panel.html): a row's first cell links to its
    url, if any, and its links (each to a page of its own, a confirmation for a change) follow."""

    title: str
    columns: list[str]
    rows: list[Row]
    empty_message: str
    notice: str = ""


# A builder: the page's request and its object (a course for courses_course_change) to a panel.
PanelBuilder = Callable[[HttpRequest, Any], Panel]

_builders: dict[str, list[PanelBuilder]] = {}


def register_panel(page_name: str, builder: PanelBuilder) -> None:
    """Add a panel to the page with this URL name, on every object's page."""
    builders = _builders.setdefault(page_name, [])
    if builder not in builders:
        builders.append(builder)


def page_panels(page_name: str, request: HttpRequest, page_object: Any) -> list[Panel]:
    return [builder(request, page_object) for builder in _builders.get(page_name, [])]
