"""Add and change pages, which save through the apps' services: the one pipeline they all follow
(form_page) and its steps, so that every page shows the same errors in the same places and leaves
for the same pages as Django's admin does."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from rest_framework import serializers
from rest_framework.settings import api_settings

from courseproject.adminsite.pages import render_page
from courseproject.adminsite.panels import Panel
from courseproject.api.errors import DomainError

SavedObject = TypeVar("SavedObject")


@dataclass(frozen=True)
class FormPage:
    """What a form page shows around its form (registration_admin/change_form.html)."""

    title: str
    breadcrumbs: Sequence[tuple[str, str]]
    readonly: Sequence[tuple[str, Any]] = ()
    object_tools: Sequence[tuple[str, str]] = ()
    delete_url: str | None = None
    can_add_another: bool = False
    can_continue: bool = True
    submit_label: str = "Save"
    # Tables under the form (registration_admin/panel.html), built only when the page is shown, not
    # for a save that leaves it.
    panels: Callable[[], Sequence[Panel]] | None = None


def form_page(
    request: HttpRequest,
    *,
    form: forms.Form,
    api_serializer: Callable[[dict[str, Any]], serializers.BaseSerializer],
    service: Callable[[dict[str, Any]], SavedObject],
    on_saved: Callable[[SavedObject], HttpResponse],
    page: FormPage,
    field_map: dict[str, str] | None = None,
) -> HttpResponse:
    """An add or change page. A valid post is validated again by the API's serializer (which
    `api_serializer` builds from the form's cleaned data), so the admin accepts only what the API
    would, then saved by `service` (given the serializer's validated data); the saved object goes to
    `on_saved` (after_save, as a rule). The serializer's and the service's refusals are shown on the
    form, on the field `field_map` names for an error code or an API field, else on the field of the
    same name, else on top."""
    if request.method == "POST" and form.is_valid():
        serializer = api_serializer(form.cleaned_data)
        if not serializer.is_valid():
            apply_serializer_errors(form, serializer.errors, field_map=field_map)
        else:
            try:
                saved = service(serializer.validated_data)
            except DomainError as error:
                apply_domain_error(form, error, field_map=field_map)
            else:
                return on_saved(saved)
    return render_form(request, form=form, page=page)


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
        for message in error_messages(messages_for_field):
            form.add_error(target if target in form.fields else None, message)


def item_number(index: int) -> str:
    return f"Item {index + 1}"


def error_messages(errors: Any, *, item_label: Callable[[int], str] | None = item_number) -> list[str]:
    """A field's serializer errors as flat messages. Those of a list's items (keyed by position) and of
    their fields say where: "Item 2: end: Must be after start."; `item_label` names a position."""
    if isinstance(errors, list):
        return [message for error in errors for message in error_messages(error, item_label=item_label)]
    if not isinstance(errors, dict):
        return [str(errors)]
    messages = []
    for key, nested in errors.items():
        if isinstance(key, int):
            where = f"{item_label(key)}: " if item_label else ""
        else:
            where = "" if key == api_settings.NON_FIELD_ERRORS_KEY else f"{key}: "
        # Deeper positions (a meeting's days) need no label: their messages quote the value.
        messages += [f"{where}{message}" for message in error_messages(nested, item_label=None)]
    return messages


def render_form(request: HttpRequest, *, form: forms.Form, page: FormPage) -> TemplateResponse:
    return render_page(
        request,
        "registration_admin/change_form.html",
        title=page.title,
        breadcrumbs=page.breadcrumbs,
        form=form,
        readonly=list(page.readonly),
        object_tools=page.object_tools,
        delete_url=page.delete_url,
        can_add_another=page.can_add_another,
        can_continue=page.can_continue,
        submit_label=page.submit_label,
        panels=page.panels() if page.panels is not None else [],
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
