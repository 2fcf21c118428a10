"""Rendering a page in the admin's look, and the pages every section shares: a confirmation before
an irreversible action, and Django's answer to a page whose object is gone."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse

from courseproject.adminsite.site import admin_site


def render_page(
    request: HttpRequest, template: str, *, title: str, breadcrumbs: Sequence[tuple[str, str]], **context: Any
) -> TemplateResponse:
    """A template of the admin with the site's context (header, sidebar) and the page's breadcrumbs."""
    request.current_app = admin_site.name
    return TemplateResponse(
        request,
        template,
        {**admin_site.each_context(request), "title": title, "breadcrumbs": breadcrumbs, **context},
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
    return render_page(
        request,
        "registration_admin/confirm.html",
        title=title,
        breadcrumbs=breadcrumbs,
        question=question,
        details=list(details),
        confirm_label=confirm_label,
        cancel_url=cancel_url,
    )


def missing_object_redirect(
    request: HttpRequest, *, name: str, object_id: str, list_url: str, reason: str = "Perhaps it was deleted?"
) -> HttpResponseRedirect:
    """Django's admin's answer to a link to an object that is gone: a warning, and back to the list."""
    messages.warning(request, f"{name} with ID “{object_id}” doesn’t exist. {reason}")
    return HttpResponseRedirect(list_url)
